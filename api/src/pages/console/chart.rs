//! Charts drawn on the server as SVG: no script, nothing from another origin. A suppressed
//! count is drawn as a hatched bar reaching at most k − 1 and labelled "fewer than k" — never
//! as zero, never as a guess. Each chart is an image whose data is also in the table below it.

use std::fmt::Write as _;

use alongside_core::metrics::suppression::Cell;

use super::shown as figure_of;
use crate::pages::Text;
use crate::pages::view::escape;

/// One bar: its label and its count.
pub struct Bar {
    pub label: String,
    pub cell: Cell,
}

const WIDTH: u32 = 400;
const ROW: u32 = 52;
/// Room at the right of the longest bar for its figure.
const FIGURE: u32 = 140;

/// A horizontal bar chart, each label above its bar and its figure at the bar's end, in the
/// reader's language. `labelled_by` is the id of the heading that names the chart.
pub fn bars(labelled_by: &str, bars: &[Bar], t: Text, k: u64) -> String {
    let shown = |c: &Cell| match c {
        Cell::Count(n) | Cell::AtLeast(n) => *n,
        // As long as it may be: a small count is at most k − 1.
        Cell::Suppressed => k.saturating_sub(1),
        // Of unknown size: no bar, only its words.
        Cell::Withheld => 0,
    };
    let max = bars
        .iter()
        .map(|b| shown(&b.cell))
        .max()
        .unwrap_or(0)
        .max(1);
    let height = ROW * bars.len().max(1) as u32 + 8;
    let span = WIDTH - FIGURE;
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg class=\"chart\" viewBox=\"0 0 {WIDTH} {height}\" role=\"img\" aria-labelledby=\"{}\" \
         xmlns=\"http://www.w3.org/2000/svg\">\
         <defs><pattern id=\"hatch-{0}\" width=\"8\" height=\"8\" patternUnits=\"userSpaceOnUse\" \
         patternTransform=\"rotate(45)\"><rect width=\"8\" height=\"8\" fill=\"#ffffff\"/>\
         <line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"8\" stroke=\"#4a4a4a\" stroke-width=\"3\"/></pattern></defs>",
        escape(labelled_by)
    );
    for (i, b) in bars.iter().enumerate() {
        let y = ROW * i as u32;
        let length = (shown(&b.cell) as f64 / max as f64 * f64::from(span)).round() as u32;
        let fill = match b.cell {
            Cell::Count(_) | Cell::AtLeast(_) => "#1a4f8b".to_owned(),
            Cell::Suppressed | Cell::Withheld => format!("url(#hatch-{})", escape(labelled_by)),
        };
        let figure = figure_of(t, b.cell, k);
        let _ = write!(
            svg,
            "<text x=\"0\" y=\"{}\" font-size=\"17\" fill=\"#1d1d1f\">{}</text>\
             <rect x=\"0\" y=\"{}\" width=\"{}\" height=\"22\" fill=\"{fill}\" stroke=\"#1d1d1f\" \
             stroke-width=\"1\"{}/>\
             <text x=\"{}\" y=\"{}\" font-size=\"17\" fill=\"#1d1d1f\">{}</text>",
            y + 18,
            escape(&b.label),
            y + 24,
            length.max(2),
            if b.cell.value().is_none() {
                " stroke-dasharray=\"4 3\""
            } else {
                ""
            },
            length.max(2) + 8,
            y + 41,
            escape(&figure),
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_suppressed_count_is_labelled_never_drawn_as_zero() {
        let t = Text {
            locale: alongside_core::i18n::Locale::En,
            catalogue: alongside_core::i18n::catalogue(),
        };
        let svg = bars(
            "h",
            &[
                Bar {
                    label: "Nurse".into(),
                    cell: Cell::Count(40),
                },
                Bar {
                    label: "Pharmacist <&>".into(),
                    cell: Cell::Suppressed,
                },
                Bar {
                    label: "All".into(),
                    cell: Cell::AtLeast(40),
                },
                Bar {
                    label: "Other".into(),
                    cell: Cell::Withheld,
                },
            ],
            t,
            11,
        );
        assert!(svg.contains(">40<"), "{svg}");
        assert!(svg.contains(">fewer than 11<"), "{svg}");
        assert!(svg.contains(">40 or more<"), "{svg}");
        assert!(svg.contains(">not shown<"), "{svg}");
        assert!(!svg.contains(">0<"), "{svg}");
        assert!(svg.contains("Pharmacist &lt;&amp;&gt;"), "{svg}");
        // The hatched bar reaches 10 of 40: a quarter of the span.
        assert!(svg.contains(&format!(
            "width=\"{}\"",
            (10.0_f64 / 40.0 * 260.0).round() as u32
        )));
    }
}
