//! Small-cell suppression before any count is shown to an analyst or leaves the node.
//!
//! Primary: a count from 1 to k−1 is suppressed (k defaults to 11). Complementary: a table is
//! published with row totals, column totals and a grand total, and each row, column and margin
//! is a sum; if any such line had exactly one suppressed item, it could be worked out by
//! subtraction. So, until no line has exactly one, another item of that line is suppressed: the
//! smallest non-zero count, else the line's total, else a zero.

use serde::{Serialize, Serializer};

pub const DEFAULT_K: u64 = 11;

/// The suppression threshold k: counts from 1 to k−1 are never shown. The node holds it once
/// (`metrics.suppression_k`) and hands it to whatever publishes counts; at least 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(try_from = "u64", into = "u64")]
pub struct SuppressionK(u64);

impl SuppressionK {
    /// Every count shown: for tests that read exact figures. No configuration can ask for it
    /// (the threshold read from configuration is at least 2).
    #[doc(hidden)]
    pub const NONE_FOR_TESTS: SuppressionK = SuppressionK(1);

    pub const fn get(self) -> u64 {
        self.0
    }

    /// The stricter of this threshold and another's (a steward's policy): figures leave a node
    /// only as its own threshold allows, whatever the other asks.
    pub fn stricter(self, other: u64) -> Self {
        Self(self.0.max(other))
    }

    /// As the manifest's policy carries it.
    pub fn wire(self) -> u32 {
        u32::try_from(self.0).unwrap_or(u32::MAX)
    }
}

impl Default for SuppressionK {
    fn default() -> Self {
        Self(DEFAULT_K)
    }
}

impl TryFrom<u64> for SuppressionK {
    type Error = String;
    fn try_from(k: u64) -> Result<Self, String> {
        if k < 2 {
            return Err(format!(
                "a suppression threshold of {k} would show single people; it must be at least 2"
            ));
        }
        Ok(Self(k))
    }
}

impl std::fmt::Display for SuppressionK {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl From<SuppressionK> for u64 {
    fn from(k: SuppressionK) -> u64 {
        k.0
    }
}

/// A published count, or why it is not shown. In JSON every kind of hidden count is `null`,
/// and empty in CSV; the pages say which kind it is, so none is ever read as a zero or as
/// smaller than it may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Cell {
    /// A small count: from 1 to k−1. The safe default.
    #[default]
    Suppressed,
    /// Hidden so that a small count in its line cannot be worked out by subtraction, or a sum
    /// of hidden parts: it may be any size.
    Withheld,
    /// A sum of parts some of which are hidden: at least the sum of those shown (figures
    /// already published, so the bound tells nothing new).
    AtLeast(u64),
    Count(u64),
}

impl Cell {
    /// The count, when it is shown.
    pub fn value(self) -> Option<u64> {
        match self {
            Cell::Count(n) => Some(n),
            Cell::Suppressed | Cell::Withheld | Cell::AtLeast(_) => None,
        }
    }
}

impl Serialize for Cell {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.value() {
            Some(n) => s.serialize_u64(n),
            None => s.serialize_none(),
        }
    }
}

/// A two-way table of counts with its margins, after suppression.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Published {
    pub rows: Vec<String>,
    pub columns: Vec<String>,
    pub cells: Vec<Vec<Cell>>,
    pub row_totals: Vec<Cell>,
    pub column_totals: Vec<Cell>,
    pub total: Cell,
}

/// Where an item sits: a cell, a row total, a column total, or the grand total.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Item {
    Cell(usize, usize),
    RowTotal(usize),
    ColTotal(usize),
    Total,
}

/// Suppresses `counts` (rows × columns) for threshold `k`.
pub fn suppress(
    rows: Vec<String>,
    columns: Vec<String>,
    counts: &[Vec<u64>],
    k: SuppressionK,
) -> Published {
    let k = k.get();
    let (nr, nc) = (rows.len(), columns.len());
    let value = |item: Item| -> u64 {
        match item {
            Item::Cell(r, c) => counts
                .get(r)
                .and_then(|row| row.get(c))
                .copied()
                .unwrap_or(0),
            Item::RowTotal(r) => counts
                .get(r)
                .map(|row| row.iter().take(nc).sum())
                .unwrap_or(0),
            Item::ColTotal(c) => counts
                .iter()
                .take(nr)
                .map(|row| row.get(c).copied().unwrap_or(0))
                .sum(),
            Item::Total => counts
                .iter()
                .take(nr)
                .flat_map(|row| row.iter().take(nc))
                .sum(),
        }
    };
    // Each line lists the items bound by one sum; the total of the line is its last item.
    let mut lines: Vec<Vec<Item>> = Vec::new();
    for r in 0..nr {
        lines.push(
            (0..nc)
                .map(|c| Item::Cell(r, c))
                .chain([Item::RowTotal(r)])
                .collect(),
        );
    }
    for c in 0..nc {
        lines.push(
            (0..nr)
                .map(|r| Item::Cell(r, c))
                .chain([Item::ColTotal(c)])
                .collect(),
        );
    }
    lines.push((0..nr).map(Item::RowTotal).chain([Item::Total]).collect());
    lines.push((0..nc).map(Item::ColTotal).chain([Item::Total]).collect());

    let mut hidden: Vec<Item> = Vec::new();
    let all: Vec<Item> = lines.iter().flatten().copied().collect();
    for item in &all {
        let v = value(*item);
        if (1..k).contains(&v) && !hidden.contains(item) {
            hidden.push(*item);
        }
    }
    // The small counts themselves; what is hidden after them is hidden to protect them.
    let small = hidden.len();
    loop {
        let exposed = lines
            .iter()
            .find(|line| line.iter().filter(|i| hidden.contains(i)).count() == 1);
        let Some(line) = exposed else { break };
        let (parts, total) = line.split_at(line.len() - 1);
        let open_parts: Vec<Item> = parts
            .iter()
            .copied()
            .filter(|i| !hidden.contains(i))
            .collect();
        let smallest_nonzero = open_parts
            .iter()
            .copied()
            .filter(|i| value(*i) > 0)
            .min_by_key(|i| value(*i));
        let pick = smallest_nonzero
            .or_else(|| total.iter().copied().find(|t| !hidden.contains(t)))
            .or_else(|| open_parts.first().copied());
        match pick {
            Some(item) => hidden.push(item),
            None => break, // every item of the line is hidden already
        }
    }
    let cell = |item: Item| match hidden.iter().position(|h| *h == item) {
        Some(i) if i < small => Cell::Suppressed,
        Some(_) => Cell::Withheld,
        None => Cell::Count(value(item)),
    };
    Published {
        cells: (0..nr)
            .map(|r| (0..nc).map(|c| cell(Item::Cell(r, c))).collect())
            .collect(),
        row_totals: (0..nr).map(|r| cell(Item::RowTotal(r))).collect(),
        column_totals: (0..nc).map(|c| cell(Item::ColTotal(c))).collect(),
        total: cell(Item::Total),
        rows,
        columns,
    }
}

/// A single count (no table around it): suppressed when from 1 to k−1.
pub fn single(n: u64, k: SuppressionK) -> Cell {
    if (1..k.get()).contains(&n) {
        Cell::Suppressed
    } else {
        Cell::Count(n)
    }
}

/// Counts that are each already published (or hidden), added up: the sum when every part is
/// published; else at least the sum of the parts shown (when that is more than 0), else
/// withheld. One part beside zeros stays as it was. Whatever is shown is then computed from figures already
/// shown, so no subtraction between views recovers a hidden one.
pub fn add(parts: impl IntoIterator<Item = Cell>) -> Cell {
    // Zeros add nothing: a hidden part beside zeros is still itself.
    let parts: Vec<Cell> = parts.into_iter().filter(|c| *c != Cell::Count(0)).collect();
    match parts.as_slice() {
        [] => return Cell::Count(0),
        [one] => return *one,
        _ => {}
    }
    let mut known = 0u64;
    let mut complete = true;
    for c in &parts {
        match c {
            Cell::Count(n) => known += n,
            Cell::AtLeast(n) => {
                known += n;
                complete = false;
            }
            Cell::Suppressed | Cell::Withheld => complete = false,
        }
    }
    match (complete, known) {
        (true, n) => Cell::Count(n),
        (false, 0) => Cell::Withheld,
        (false, n) => Cell::AtLeast(n),
    }
}

/// Tables of one shape (parts of a population: months, programs), each suppressed on its own,
/// added up cell by cell and margin by margin with [`add`]. `None` when there are no parts.
pub fn add_tables(parts: &[Published]) -> Option<Published> {
    let first = parts.first()?;
    let (nr, nc) = (first.rows.len(), first.columns.len());
    let at = |f: &dyn Fn(&Published) -> Option<Cell>| {
        add(parts.iter().map(|p| f(p).unwrap_or(Cell::Suppressed)))
    };
    Some(Published {
        rows: first.rows.clone(),
        columns: first.columns.clone(),
        cells: (0..nr)
            .map(|r| {
                (0..nc)
                    .map(|c| at(&|p| p.cells.get(r).and_then(|row| row.get(c)).copied()))
                    .collect()
            })
            .collect(),
        row_totals: (0..nr)
            .map(|r| at(&|p| p.row_totals.get(r).copied()))
            .collect(),
        column_totals: (0..nc)
            .map(|c| at(&|p| p.column_totals.get(c).copied()))
            .collect(),
        total: at(&|p| Some(p.total)),
    })
}

/// The table as CSV: a header, one line per row with its total, then the column totals.
pub fn to_csv(p: &Published) -> String {
    let show = |c: &Cell| c.value().map(|n| n.to_string()).unwrap_or_default();
    let quote = |s: &str| {
        if s.contains([',', '"', '\n']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_owned()
        }
    };
    let mut out = String::new();
    out.push_str(
        &std::iter::once(String::new())
            .chain(p.columns.iter().map(|c| quote(c)))
            .chain(["total".into()])
            .collect::<Vec<_>>()
            .join(","),
    );
    out.push('\n');
    for (r, name) in p.rows.iter().enumerate() {
        let line: Vec<String> = std::iter::once(quote(name))
            .chain(p.cells[r].iter().map(show))
            .chain([show(&p.row_totals[r])])
            .collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    let totals: Vec<String> = std::iter::once("total".to_owned())
        .chain(p.column_totals.iter().map(show))
        .chain([show(&p.total)])
        .collect();
    out.push_str(&totals.join(","));
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    const K11: SuppressionK = SuppressionK(DEFAULT_K);
    use super::*;
    use proptest::prelude::*;

    fn names(n: usize, prefix: &str) -> Vec<String> {
        (0..n).map(|i| format!("{prefix}{i}")).collect()
    }

    /// Every line (row, column, margins): the number of suppressed items is never exactly one.
    fn no_line_gives_a_value_away(p: &Published) -> bool {
        let nr = p.rows.len();
        let nc = p.columns.len();
        let mut lines: Vec<Vec<Cell>> = Vec::new();
        for r in 0..nr {
            lines.push(
                p.cells[r]
                    .iter()
                    .copied()
                    .chain([p.row_totals[r]])
                    .collect(),
            );
        }
        for c in 0..nc {
            lines.push(
                (0..nr)
                    .map(|r| p.cells[r][c])
                    .chain([p.column_totals[c]])
                    .collect(),
            );
        }
        lines.push(p.row_totals.iter().copied().chain([p.total]).collect());
        lines.push(p.column_totals.iter().copied().chain([p.total]).collect());
        lines
            .iter()
            .all(|l| l.iter().filter(|c| c.value().is_none()).count() != 1)
    }

    #[test]
    fn a_hand_checked_table() {
        // origin × urgency; k = 11.
        let counts = vec![vec![40, 3, 12], vec![25, 14, 0], vec![30, 20, 15]];
        let p = suppress(names(3, "r"), names(3, "c"), &counts, K11);
        use Cell::{Count as N, Suppressed as S, Withheld as W};
        // The 3 is suppressed. Its row needs a second (12, the smallest non-zero), its column too
        // (14); then 14's row (25), 25's column (30) and 30's row (15). Every total stays. Only
        // the 3 is a small count; the others are withheld to protect it.
        assert_eq!(
            p.cells,
            vec![vec![N(40), S, W], vec![W, W, N(0)], vec![W, N(20), W]]
        );
        assert_eq!(p.row_totals, vec![N(55), N(39), N(65)]);
        assert_eq!(p.column_totals, vec![N(95), N(37), N(27)]);
        assert_eq!(p.total, N(159));
        assert!(no_line_gives_a_value_away(&p));
        assert_eq!(
            to_csv(&p),
            ",c0,c1,c2,total\nr0,40,,,55\nr1,,,0,39\nr2,,20,,65\ntotal,95,37,27,159\n"
        );
    }

    #[test]
    fn a_lone_small_count_hides_its_total_too() {
        let p = suppress(names(1, "r"), names(2, "c"), &[vec![4, 0]], K11);
        assert_eq!(p.cells[0][0], Cell::Suppressed);
        assert_eq!(p.row_totals[0], Cell::Suppressed);
        assert_eq!(p.total, Cell::Suppressed);
        assert!(no_line_gives_a_value_away(&p));
    }

    #[test]
    fn sums_with_hidden_parts_are_lower_bounds_never_small_counts() {
        use Cell::{AtLeast, Count, Suppressed, Withheld};
        assert_eq!(add([Count(40), Suppressed]), AtLeast(40));
        assert_eq!(
            add([Suppressed, Suppressed]),
            Withheld,
            "two small counts may add up to k"
        );
        assert_eq!(add([Suppressed]), Suppressed, "one part is itself");
        assert_eq!(
            add([Count(0), Suppressed, Count(0)]),
            Suppressed,
            "beside zeros too"
        );
        assert_eq!(add([AtLeast(12), Count(3)]), AtLeast(15));
        assert_eq!(add([Count(12), Count(0)]), Count(12));
        assert_eq!(
            serde_json::to_string(&[Count(3), Suppressed, Withheld, AtLeast(9)]).unwrap(),
            "[3,null,null,null]"
        );
    }

    #[test]
    fn singles() {
        assert_eq!(single(0, K11), Cell::Count(0));
        assert_eq!(single(10, K11), Cell::Suppressed);
        assert_eq!(single(11, K11), Cell::Count(11));
    }

    proptest! {
        #[test]
        fn nothing_suppressed_can_be_recovered(
            counts in proptest::collection::vec(proptest::collection::vec(0u64..40, 1..6), 1..6),
            k in 2u64..15,
        ) {
            let width = counts.iter().map(Vec::len).min().unwrap_or(1);
            let counts: Vec<Vec<u64>> = counts.into_iter().map(|r| r.into_iter().take(width).collect()).collect();
            let p = suppress(names(counts.len(), "r"), names(width, "c"), &counts, SuppressionK(k));
            prop_assert!(no_line_gives_a_value_away(&p));
            // Published values are true, and none is a small count.
            for (r, row) in p.cells.iter().enumerate() {
                for (c, cell) in row.iter().enumerate() {
                    if let Cell::Count(n) = cell {
                        prop_assert_eq!(*n, counts[r][c]);
                        prop_assert!(*n == 0 || *n >= k);
                    }
                }
            }
            for t in p.row_totals.iter().chain(&p.column_totals).chain([&p.total]) {
                if let Cell::Count(n) = t {
                    prop_assert!(*n == 0 || *n >= k);
                }
            }
        }

        /// Parts (months, programs) suppressed on their own and added up: every figure shown is
        /// the true sum, none is a small count, and each is the sum of figures the parts showed.
        #[test]
        fn added_tables_show_only_sums_of_shown_figures(
            parts in proptest::collection::vec(
                proptest::collection::vec(proptest::collection::vec(0u64..30, 3), 2), 1..5),
            k in 2u64..15,
        ) {
            let published: Vec<Published> = parts
                .iter()
                .map(|counts| suppress(names(2, "r"), names(3, "c"), counts, SuppressionK(k)))
                .collect();
            let sum = add_tables(&published).unwrap();
            for r in 0..2 {
                for c in 0..3 {
                    let shown: Vec<Cell> = published.iter().map(|p| p.cells[r][c]).collect();
                    match sum.cells[r][c] {
                        Cell::Count(n) => {
                            prop_assert_eq!(n, parts.iter().map(|p| p[r][c]).sum::<u64>());
                            prop_assert!(n == 0 || n >= k);
                            prop_assert!(shown.iter().all(|c| c.value().is_some()));
                        }
                        Cell::AtLeast(n) => {
                            prop_assert!(shown.iter().any(|c| c.value().is_none()));
                            // The bound is the sum of the parts shown, and true.
                            let of_shown: u64 = shown.iter().filter_map(|c| c.value()).sum();
                            prop_assert_eq!(n, of_shown);
                            prop_assert!(n <= parts.iter().map(|p| p[r][c]).sum::<u64>());
                        }
                        Cell::Suppressed | Cell::Withheld => {
                            prop_assert!(shown.iter().any(|c| c.value().is_none()));
                            prop_assert!(shown.iter().all(|c| c.value().unwrap_or(0) == 0));
                        }
                    }
                }
            }
        }
    }
}
