//! The de-identification gate. Everything that may leave a node, and the few short texts an
//! event or request carries, passes [`scan`]: it finds identifiers from the HIPAA Safe Harbor
//! list — names next to titles or patient/relative words, full dates (a year or month alone is
//! fine), phone and fax numbers, emails, record/account/licence/device numbers, SSNs, street
//! addresses, ZIP codes, URLs with personal paths, IP addresses — and reports each with its kind
//! and position. [`Shareable`] can only be built from a value that passes.

use std::fmt;
use std::ops::Range;

use serde::{Deserialize, Serialize};

use crate::error::CoreError;

/// The kinds of identifier the gate refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Email,
    Phone,
    Ssn,
    Url,
    IpAddress,
    FullDate,
    RecordNumber,
    ZipCode,
    StreetAddress,
    PersonName,
}

impl Kind {
    pub fn describe(self) -> &'static str {
        match self {
            Self::Email => "an email address",
            Self::Phone => "a phone or fax number",
            Self::Ssn => "a social security number",
            Self::Url => "a URL with a personal path",
            Self::IpAddress => "an IP address",
            Self::FullDate => "a full date",
            Self::RecordNumber => "a record, account, licence or device number",
            Self::ZipCode => "a ZIP code",
            Self::StreetAddress => "a street address",
            Self::PersonName => "a person's name",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// One identifier found: in which field, what kind, and where (byte offsets into the text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub field: String,
    pub kind: Kind,
    pub start: usize,
    pub end: usize,
}

/// A word of the text and where it is; `clean` has surrounding punctuation trimmed.
struct Word<'a> {
    raw: &'a str,
    clean: &'a str,
    range: Range<usize>,
}

fn words(text: &str) -> Vec<Word<'_>> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        if c.is_whitespace() {
            if let Some(s) = start.take() {
                out.push(word(text, s, i));
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(s) = start {
        out.push(word(text, s, text.len()));
    }
    out
}

fn word(text: &str, s: usize, e: usize) -> Word<'_> {
    let raw = &text[s..e];
    let clean = raw.trim_matches(|c: char| !(c.is_alphanumeric() || c == '@' || c == '#'));
    let offset = raw.find(clean).unwrap_or(0);
    let range = if clean.is_empty() {
        s..e
    } else {
        s + offset..s + offset + clean.len()
    };
    Word { raw, clean, range }
}

const TITLES: &[&str] = &[
    "dr", "mr", "mrs", "ms", "miss", "prof", "nurse", "doctor", "sister", "pastor",
];
const RELATIONS: &[&str] = &[
    "patient",
    "patient's",
    "pt",
    "daughter",
    "son",
    "wife",
    "husband",
    "mother",
    "father",
    "sister",
    "brother",
    "relative",
    "grandmother",
    "grandfather",
    "partner",
    "widow",
    "widower",
    "baby",
    "infant",
    "resident",
    "decedent",
];
const STREET: &[&str] = &[
    "st",
    "street",
    "ave",
    "avenue",
    "rd",
    "road",
    "blvd",
    "boulevard",
    "lane",
    "ln",
    "drive",
    "ct",
    "court",
    "way",
    "pl",
    "place",
    "terrace",
    "pkwy",
    "parkway",
    "highway",
    "hwy",
    "circle",
    "cir",
];
const MONTHS: &[&str] = &[
    "jan",
    "january",
    "feb",
    "february",
    "mar",
    "march",
    "apr",
    "april",
    "may",
    "jun",
    "june",
    "jul",
    "july",
    "aug",
    "august",
    "sep",
    "sept",
    "september",
    "oct",
    "october",
    "nov",
    "november",
    "dec",
    "december",
];
const RECORD_WORDS: &[&str] = &[
    "mrn", "record", "acct", "account", "licence", "license", "lic", "device", "serial", "policy",
    "member", "chart", "fin", "npi", "dea", "plate",
];
const PERSONAL_PATHS: &[&str] = &[
    "user", "users", "u", "profile", "profiles", "people", "person", "patient", "patients",
    "member", "members", "in", "staff", "~",
];

fn is_name(w: &str) -> bool {
    let mut chars = w.chars();
    chars.next().is_some_and(char::is_uppercase)
        && w.len() > 1
        && chars.all(|c| c.is_alphabetic() || c == '\'' || c == '-')
}

fn digits(s: &str) -> usize {
    s.chars().filter(char::is_ascii_digit).count()
}

fn is_year(s: &str) -> bool {
    s.len() == 4
        && s.chars().all(|c| c.is_ascii_digit())
        && (s.starts_with("19") || s.starts_with("20"))
}

fn is_day(s: &str) -> bool {
    let s = s.trim_end_matches(|c: char| c.is_alphabetic()); // 14th, 1st
    !s.is_empty()
        && s.len() <= 2
        && s.chars().all(|c| c.is_ascii_digit())
        && s.parse::<u8>().is_ok_and(|d| (1..=31).contains(&d))
}

fn numeric_date(s: &str) -> bool {
    for sep in ['-', '/', '.'] {
        let parts: Vec<&str> = s.split(sep).collect();
        if parts.len() == 3
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
            && (parts.iter().any(|p| p.len() == 4) || parts.iter().all(|p| p.len() <= 2))
            && parts.iter().filter(|p| p.len() <= 2).count() >= 2
        {
            return true;
        }
    }
    false
}

fn ip_address(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() == 4
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 3 && p.parse::<u16>().is_ok_and(|n| n <= 255))
}

fn personal_url(url: &str) -> Option<Kind> {
    let lower = url.to_lowercase();
    let rest = lower
        .trim_start_matches("https://")
        .trim_start_matches("http://");
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    if ip_address(host.split(':').next().unwrap_or(host)) {
        return Some(Kind::IpAddress);
    }
    if path.contains('~') || path.contains('@') {
        return Some(Kind::Url);
    }
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    if path.split('/').any(|seg| PERSONAL_PATHS.contains(&seg)) {
        return Some(Kind::Url);
    }
    if query.split('&').any(|kv| {
        let key = kv.split('=').next().unwrap_or("");
        ["name", "patient", "mrn", "dob", "email", "user", "ssn"].contains(&key)
    }) {
        return Some(Kind::Url);
    }
    None
}

/// Every identifier in `text`, in order of position.
pub fn scan(text: &str) -> Vec<(Kind, Range<usize>)> {
    let ws = words(text);
    let mut found: Vec<(Kind, Range<usize>)> = Vec::new();
    let lower = |i: usize| {
        ws.get(i)
            .map(|w| w.clean.to_lowercase())
            .unwrap_or_default()
    };
    for (i, w) in ws.iter().enumerate() {
        let c = w.clean;
        let lc = c.to_lowercase();
        if c.is_empty() {
            continue;
        }
        if lc.starts_with("http://") || lc.starts_with("https://") || lc.starts_with("www.") {
            if let Some(kind) = personal_url(w.raw.trim_end_matches(['.', ',', ')', ';'])) {
                found.push((kind, w.range.clone()));
            }
            continue;
        }
        if c.contains('@') && c.split('@').nth(1).is_some_and(|d| d.contains('.')) {
            found.push((Kind::Email, w.range.clone()));
            continue;
        }
        if ip_address(c) {
            found.push((Kind::IpAddress, w.range.clone()));
            continue;
        }
        let groups: Vec<usize> = c
            .split(|ch: char| !ch.is_ascii_digit())
            .filter(|g| !g.is_empty())
            .map(str::len)
            .collect();
        if groups == [3, 2, 4] && c.chars().all(|ch| ch.is_ascii_digit() || ch == '-') {
            found.push((Kind::Ssn, w.range.clone()));
            continue;
        }
        if numeric_date(c) {
            found.push((Kind::FullDate, w.range.clone()));
            continue;
        }
        // Textual dates: "March 14, 2026", "14 March 2026".
        if MONTHS.contains(&lc.trim_end_matches('.')) {
            let next = lower(i + 1);
            let next2 = lower(i + 2);
            let prev = if i > 0 { lower(i - 1) } else { String::new() };
            let prev_is_day = i > 0 && is_day(&prev);
            if (is_day(&next) && is_year(&next2)) || (prev_is_day && is_year(&next)) {
                let start = if prev_is_day {
                    ws[i - 1].range.start
                } else {
                    w.range.start
                };
                let end = if prev_is_day {
                    ws[i + 1].range.end
                } else {
                    ws[i + 2].range.end
                };
                found.push((Kind::FullDate, start..end));
                continue;
            }
        }
        if lc == "dob" || (lc == "date" && lower(i + 1) == "of" && lower(i + 2) == "birth") {
            found.push((Kind::FullDate, w.range.clone()));
            continue;
        }
        // Record numbers: a record word, then something with digits.
        if RECORD_WORDS.contains(&lc.trim_end_matches(['#', ':', '.'])) {
            let mut j = i + 1;
            while j < ws.len() && j <= i + 3 && digits(ws[j].clean) == 0 {
                j += 1;
            }
            if j < ws.len() && j <= i + 3 && digits(ws[j].clean) >= 4 {
                found.push((Kind::RecordNumber, w.range.start..ws[j].range.end));
                continue;
            }
        }
        if c.starts_with('#') && digits(c) >= 4 {
            found.push((Kind::RecordNumber, w.range.clone()));
            continue;
        }
        // Street addresses: a house number, up to three capitalised words, a street suffix.
        if c.chars().all(|ch| ch.is_ascii_digit()) && !c.is_empty() && c.len() <= 6 {
            let mut j = i + 1;
            while j < ws.len()
                && j <= i + 4
                && is_name(ws[j].clean)
                && !STREET.contains(&ws[j].clean.to_lowercase().as_str())
            {
                j += 1;
            }
            if j > i + 1
                && j < ws.len()
                && STREET.contains(&ws[j].clean.to_lowercase().trim_end_matches('.'))
            {
                found.push((Kind::StreetAddress, w.range.start..ws[j].range.end));
                continue;
            }
        }
        // ZIP codes: five digits, optionally +4, standing alone.
        let zip = c.split('-').collect::<Vec<_>>();
        if (zip.len() == 1 && c.len() == 5
            || zip.len() == 2 && zip[0].len() == 5 && zip[1].len() == 4)
            && c.chars().all(|ch| ch.is_ascii_digit() || ch == '-')
            && !is_year(c)
        {
            found.push((Kind::ZipCode, w.range.clone()));
            continue;
        }
        // Names: after a title, or after a patient/relative word.
        let title = TITLES.contains(&lc.trim_end_matches('.'));
        let relation = RELATIONS.contains(&lc.as_str());
        if (title || relation)
            && ws.get(i + 1).is_some_and(|n| {
                is_name(n.clean) && !STREET.contains(&n.clean.to_lowercase().as_str())
            })
        {
            let mut end = i + 1;
            while end + 1 < ws.len() && end < i + 3 && is_name(ws[end + 1].clean) {
                end += 1;
            }
            found.push((Kind::PersonName, w.range.start..ws[end].range.end));
            continue;
        }
    }
    // Phone and fax numbers can span words: "(312) 555-0199", "+44 20 7946 0958".
    scan_phones(text, &mut found);
    // Long numbers that are not dates or phones: record or account numbers.
    for w in &ws {
        let longest_run = w
            .clean
            .split(|c: char| !c.is_ascii_digit())
            .map(str::len)
            .max()
            .unwrap_or(0);
        if longest_run >= 7
            && !found
                .iter()
                .any(|(_, r)| r.start <= w.range.start && w.range.end <= r.end)
        {
            found.push((Kind::RecordNumber, w.range.clone()));
        }
    }
    found.sort_by_key(|(_, r)| (r.start, r.end));
    found.dedup_by(|a, b| a.1.start >= b.1.start && a.1.end <= b.1.end);
    found
}

fn scan_phones(text: &str, found: &mut Vec<(Kind, Range<usize>)>) {
    let bytes = text.as_bytes();
    let is_part = |b: u8| b.is_ascii_digit() || b" ()-+.".contains(&b);
    let mut i = 0;
    while i < bytes.len() {
        if !(bytes[i].is_ascii_digit() || bytes[i] == b'(' || bytes[i] == b'+') {
            i += 1;
            continue;
        }
        let start = i;
        let mut end = i;
        while end < bytes.len() && is_part(bytes[end]) {
            end += 1;
        }
        let stretch = text[start..end].trim_end_matches([' ', '.', '-']);
        let groups: Vec<usize> = stretch
            .split(|c: char| !c.is_ascii_digit())
            .filter(|g| !g.is_empty())
            .map(str::len)
            .collect();
        let total: usize = groups.iter().sum();
        let phone_shaped = groups.len() > 1
            && groups.first().is_some_and(|g| *g <= 3)
            && groups.last() == Some(&4);
        if (7..=15).contains(&total)
            && phone_shaped
            && groups != [3, 2, 4]
            && !numeric_date(stretch.trim())
        {
            let lead = stretch.len() - stretch.trim_start().len();
            let range = start + lead..start + stretch.len();
            if !found
                .iter()
                .any(|(_, r)| r.start <= range.start && range.end <= r.end)
            {
                found.push((Kind::Phone, range));
            }
        }
        i = end.max(i + 1);
    }
}

/// Every identifier in `value`, as findings for `field`.
pub fn findings(field: &str, value: &str) -> Vec<Finding> {
    scan(value)
        .into_iter()
        .map(|(kind, r)| Finding {
            field: field.to_owned(),
            kind,
            start: r.start,
            end: r.end,
        })
        .collect()
}

/// The first kind of identifier in `text`, if any.
pub fn find_identifier(text: &str) -> Option<&'static str> {
    scan(text).first().map(|(k, _)| k.describe())
}

/// Refuses `value` if it carries an identifier, naming the field and what was found (never the
/// value itself).
pub fn check(field: &str, value: &str) -> Result<(), CoreError> {
    let found = scan(value);
    if found.is_empty() {
        return Ok(());
    }
    let mut kinds: Vec<&str> = found.iter().map(|(k, _)| k.describe()).collect();
    kinds.dedup();
    Err(CoreError::bad_input(
        field,
        format!(
            "seems to contain {} (at {}); Alongside stores and shares no identifiers or case details",
            kinds.join(" and "),
            found
                .iter()
                .map(|(_, r)| format!("{}..{}", r.start, r.end))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    ))
}

/// A value whose texts the gate inspects: each `(field, text)` it would share.
pub trait Inspect {
    fn texts(&self) -> Vec<(&'static str, &str)>;
}

/// A value that passed the gate. It cannot be built any other way, and deserialising one checks
/// it again, so nothing unchecked can leave a node through it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Shareable<T>(T);

impl<T: Inspect> Shareable<T> {
    /// Passes `value` through the gate, or returns every finding.
    pub fn new(value: T) -> Result<Self, Vec<Finding>> {
        let all: Vec<Finding> = value
            .texts()
            .into_iter()
            .flat_map(|(field, text)| findings(field, text))
            .collect();
        if all.is_empty() {
            Ok(Self(value))
        } else {
            Err(all)
        }
    }

    pub fn get(&self) -> &T {
        &self.0
    }

    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<'de, T: Inspect + Deserialize<'de>> Deserialize<'de> for Shareable<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = T::deserialize(d)?;
        Shareable::new(value).map_err(|f| {
            serde::de::Error::custom(format!(
                "{} identifier(s) found, first {} in {}",
                f.len(),
                f[0].kind,
                f[0].field
            ))
        })
    }
}

/// Turns findings into the API's error: the first field, and every kind and position.
pub fn refusal(findings: &[Finding]) -> CoreError {
    let field = findings
        .first()
        .map(|f| f.field.clone())
        .unwrap_or_default();
    let detail = findings
        .iter()
        .map(|f| format!("{}: {} at {}..{}", f.field, f.kind, f.start, f.end))
        .collect::<Vec<_>>()
        .join("; ");
    CoreError::bad_input(field, format!("cannot be shared: {detail}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn positions_point_at_the_identifier() {
        let text = "Call Dr. Okafor at 312-555-0199 today";
        let found = scan(text);
        let kinds: Vec<Kind> = found.iter().map(|(k, _)| *k).collect();
        assert_eq!(kinds, vec![Kind::PersonName, Kind::Phone]);
        assert_eq!(&text[found[0].1.clone()], "Dr. Okafor");
        assert_eq!(&text[found[1].1.clone()], "312-555-0199");
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Card {
        title: String,
        body: String,
    }

    impl Inspect for Card {
        fn texts(&self) -> Vec<(&'static str, &str)> {
            vec![("title", &self.title), ("body", &self.body)]
        }
    }

    #[test]
    fn shareable_values_name_every_finding() {
        let bad = Card {
            title: "Talking with peers".into(),
            body: "Ask jane@x.org or visit 12 Elm Street".into(),
        };
        let findings = Shareable::new(bad).unwrap_err();
        assert_eq!(
            findings
                .iter()
                .map(|f| (f.field.as_str(), f.kind))
                .collect::<Vec<_>>(),
            vec![("body", Kind::Email), ("body", Kind::StreetAddress)]
        );
        let good = Card {
            title: "Talking with peers".into(),
            body: "Feelings are yours to share.".into(),
        };
        assert!(Shareable::new(good).is_ok());
        assert!(
            serde_json::from_str::<Shareable<Card>>(r#"{"title":"x","body":"MRN 12345678"}"#)
                .is_err()
        );
    }

    proptest! {
        #[test]
        fn never_panics_and_positions_are_in_bounds(text in "\\PC{0,200}") {
            for (_, r) in scan(&text) {
                prop_assert!(r.start <= r.end && r.end <= text.len());
                prop_assert!(text.is_char_boundary(r.start) && text.is_char_boundary(r.end));
            }
        }

        #[test]
        fn shareable_survives_a_json_round_trip(title in "[A-Za-z ]{0,40}", body in "[A-Za-z ,.]{0,120}") {
            if let Ok(card) = Shareable::new(Card { title, body }) {
                let json = serde_json::to_string(&card).unwrap();
                let back: Shareable<Card> = serde_json::from_str(&json).unwrap();
                prop_assert_eq!(back, card);
            }
        }
    }
}
