//! The de-identification gate. Everything that may leave a node, and the few short texts an
//! event or request carries, passes [`scan`]: it finds identifiers from all eighteen categories
//! of the HIPAA Safe Harbor list — names, places smaller than a state, dates and ages over 89,
//! phone and fax numbers, emails, SSNs, record, plan, account, certificate and licence numbers,
//! vehicle and device identifiers, URLs, IP addresses, biometric identifiers, photographs and
//! other unique codes such as social-media handles — and reports each with its kind and
//! position. [`Shareable`] can only be built from a value that passes.

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
    Age,
    Place,
    Vehicle,
    Device,
    Biometric,
    Photograph,
    UniqueCode,
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
            Self::RecordNumber => "a record, health plan, account, certificate or licence number",
            Self::ZipCode => "a ZIP code",
            Self::StreetAddress => "a street address",
            Self::PersonName => "a person's name",
            Self::Age => "an age over 89",
            Self::Place => "a place smaller than a state",
            Self::Vehicle => "a vehicle identifier or plate",
            Self::Device => "a device identifier or serial number",
            Self::Biometric => "a biometric identifier",
            Self::Photograph => "a photograph",
            Self::UniqueCode => "a handle or other unique code",
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
    "dr", "mr", "mrs", "ms", "mx", "miss", "prof", "nurse", "doctor", "sister", "pastor", "rev",
    "fr", "rabbi", "imam", "named",
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
    "mrn",
    "record",
    "acct",
    "account",
    "licence",
    "license",
    "lic",
    "policy",
    "member",
    "chart",
    "fin",
    "npi",
    "dea",
    "beneficiary",
    "medicare",
    "medicaid",
    "mbi",
    "hicn",
    "subscriber",
    "insurance",
    "insurer",
    "plan",
    "group",
    "certificate",
    "cert",
    "registration",
    "permit",
    "passport",
    "badge",
    "employee",
    "id",
    "iban",
    "routing",
    "card",
    "claim",
];
/// Words that say a device identifier follows (checked before record words).
const DEVICE_WORDS: &[&str] = &[
    "device",
    "serial",
    "s/n",
    "sn",
    "imei",
    "meid",
    "udi",
    "udid",
    "mac",
    "pacemaker",
    "pump",
    "implant",
];
/// Words that say a vehicle identifier follows.
const VEHICLE_WORDS: &[&str] = &["vin", "plate", "plates", "tag"];
const BIOMETRIC_WORDS: &[&str] = &[
    "fingerprint",
    "fingerprints",
    "voiceprint",
    "faceprint",
    "retina",
    "retinal",
    "iris",
    "palmprint",
    "biometric",
    "dna",
];
const PHOTO_WORDS: &[&str] = &[
    "photo",
    "photos",
    "photograph",
    "photographs",
    "picture",
    "pictures",
    "selfie",
    "headshot",
    "portrait",
    "image",
];
const PHOTO_EXTENSIONS: &[&str] = &[
    ".jpg", ".jpeg", ".png", ".heic", ".heif", ".gif", ".bmp", ".tif", ".tiff", ".webp", ".raw",
];
/// Units smaller than a state, named after a proper name ("Cook County").
const PLACE_UNITS: &[&str] = &["county", "parish", "borough", "township", "municipality"];
/// What may follow a unit in an institution's name ("Cook County Health").
const INSTITUTION_WORDS: &[&str] = &[
    "hospital",
    "hospitals",
    "health",
    "healthcare",
    "medical",
    "general",
    "clinic",
    "clinics",
];
/// Words before a place: "the town of X", "lives in X".
const PLACE_LEADS: &[&str] = &[
    "city",
    "town",
    "village",
    "hamlet",
    "suburb",
    "neighborhood",
];
const STATES: &[&str] = &[
    "alabama",
    "alaska",
    "arizona",
    "arkansas",
    "california",
    "colorado",
    "connecticut",
    "delaware",
    "florida",
    "georgia",
    "hawaii",
    "idaho",
    "illinois",
    "indiana",
    "iowa",
    "kansas",
    "kentucky",
    "louisiana",
    "maine",
    "maryland",
    "massachusetts",
    "michigan",
    "minnesota",
    "mississippi",
    "missouri",
    "montana",
    "nebraska",
    "nevada",
    "new",
    "north",
    "south",
    "west",
    "ohio",
    "oklahoma",
    "oregon",
    "pennsylvania",
    "rhode",
    "tennessee",
    "texas",
    "utah",
    "vermont",
    "virginia",
    "washington",
    "wisconsin",
    "wyoming",
    "puerto",
    "district",
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
            && (parts.iter().any(|p| p.len() == 4)
                || parts.iter().all(|p| p.len() <= 2) && sep != '.'
                || parts.iter().all(|p| p.len() == 2))
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

/// A code worth refusing after a record, device or vehicle word: some digits, and not a year or
/// a month ("2026", "2026-03"), which guidance is full of.
fn codeish(s: &str) -> bool {
    let d = digits(s);
    let letters = s.chars().filter(char::is_ascii_alphabetic).count();
    let year_or_month = is_year(s)
        || s.split_once('-')
            .is_some_and(|(y, m)| is_year(y) && m.len() <= 2 && digits(m) == m.len());
    !year_or_month && (d >= 4 || (d >= 3 && letters >= 1 && d + letters >= 5))
}

fn hex_run(s: &str) -> bool {
    s.len() >= 16
        && s.chars().all(|c| c.is_ascii_hexdigit())
        && s.chars().any(|c| c.is_ascii_digit())
        && s.chars().any(|c| c.is_ascii_alphabetic())
}

fn uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.iter().map(|p| p.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
        && parts
            .iter()
            .all(|p| p.chars().all(|c| c.is_ascii_hexdigit()))
}

/// A vehicle identification number: 17 letters and digits, never I, O or Q.
fn vin(s: &str) -> bool {
    s.len() == 17
        && s.chars()
            .all(|c| c.is_ascii_digit() || (c.is_ascii_uppercase() && !"IOQ".contains(c)))
        && digits(s) >= 4
        && s.chars().filter(char::is_ascii_uppercase).count() >= 2
}

/// A hardware (MAC) address: six pairs of hex digits.
fn mac_address(s: &str) -> bool {
    [':', '-'].iter().any(|sep| {
        let parts: Vec<&str> = s.split(*sep).collect();
        parts.len() == 6
            && parts
                .iter()
                .all(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_hexdigit()))
    })
}

/// An age in years, when `s` is a whole number.
fn years(s: &str) -> Option<u16> {
    (!s.is_empty() && s.len() <= 3 && s.chars().all(|c| c.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// "92-year-old", "92yo", "92y/o": an age in one word.
fn age_word(lc: &str) -> Option<u16> {
    let n: String = lc.chars().take_while(char::is_ascii_digit).collect();
    let rest = lc[n.len()..].trim_start_matches('-');
    let aged = ["year-old", "years-old", "yr-old", "yo", "y/o", "yrs-old"].contains(&rest);
    if aged { years(&n) } else { None }
}

/// A coordinate: a signed decimal with at least three places ("41.8781", "-87.6298°").
fn coordinate(s: &str) -> bool {
    let s = s.trim_end_matches(['°', ',']).trim_start_matches('-');
    s.split_once('.').is_some_and(|(whole, frac)| {
        (1..=3).contains(&whole.len())
            && whole.chars().all(|c| c.is_ascii_digit())
            && frac.len() >= 3
            && frac.chars().all(|c| c.is_ascii_digit())
    })
}

/// A British postcode ("SW1A 1AA") or a Canadian postal code ("K1A 0B1"), as two words.
fn postcode(first: &str, second: &str) -> bool {
    let upper_or_digit = |c: char| c.is_ascii_uppercase() || c.is_ascii_digit();
    let inward = second.len() == 3
        && second.chars().next().is_some_and(|c| c.is_ascii_digit())
        && second.chars().all(upper_or_digit);
    let outward = (2..=4).contains(&first.len())
        && first.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && first.chars().all(upper_or_digit)
        && first.chars().any(|c| c.is_ascii_digit());
    inward && outward && digits(second) >= 1
}

/// Whether a US state's name starts at word `j` (a place that large may be named).
fn state_at(ws: &[Word<'_>], j: usize) -> bool {
    let Some(w) = ws.get(j) else { return false };
    let first = w.clean.to_lowercase();
    const SECOND: &[(&str, &[&str])] = &[
        ("new", &["hampshire", "jersey", "mexico", "york"]),
        ("north", &["carolina", "dakota"]),
        ("south", &["carolina", "dakota"]),
        ("west", &["virginia"]),
        ("rhode", &["island"]),
        ("puerto", &["rico"]),
        ("district", &["of"]),
    ];
    match SECOND.iter().find(|(f, _)| *f == first) {
        Some((_, seconds)) => ws
            .get(j + 1)
            .is_some_and(|n| seconds.contains(&n.clean.to_lowercase().as_str())),
        None => STATES.contains(&first.as_str()),
    }
}

/// The word within three after `i` that carries the first digits, if it is a code.
fn code_after(ws: &[Word<'_>], i: usize) -> Option<usize> {
    let j = (i + 1..ws.len().min(i + 4)).find(|&j| digits(ws[j].clean) > 0)?;
    codeish(ws[j].clean).then_some(j)
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

/// Ages over 89, places, vehicles, devices, biometrics, photographs, handles and other codes
/// at word `i` (whose lower case is `lc`).
fn other_identifier(ws: &[Word<'_>], i: usize, lc: &str) -> Option<(Kind, Range<usize>)> {
    let w = &ws[i];
    let lower = |j: usize| {
        ws.get(j)
            .map(|w| w.clean.to_lowercase())
            .unwrap_or_default()
    };
    let name_at = |j: usize| ws.get(j).is_some_and(|n| is_name(n.clean));
    let span = |j: usize| w.range.start..ws[j].range.end;
    let bare = lc.trim_end_matches([':', '#', '.']);
    // "plate 7ABC123", "license plate ABC-1234", "tag 8XK 442" (a plate may be two words).
    let plate_at = if VEHICLE_WORDS.contains(&bare) {
        Some(i)
    } else if ["license", "licence", "number"].contains(&bare) && lower(i + 1).starts_with("plate")
    {
        Some(i + 1)
    } else {
        None
    };
    if let Some(p) = plate_at {
        if let Some(j) = code_after(ws, p) {
            return Some((Kind::Vehicle, span(j)));
        }
        if let (Some(a), Some(b)) = (ws.get(p + 1), ws.get(p + 2))
            && a.clean.len() <= 4
            && b.clean.len() <= 4
            && codeish(&format!("{}{}", a.clean, b.clean))
        {
            return Some((Kind::Vehicle, span(p + 2)));
        }
    }
    if vin(w.clean) {
        return Some((Kind::Vehicle, w.range.clone()));
    }
    if DEVICE_WORDS.contains(&bare)
        && let Some(j) = code_after(ws, i)
    {
        return Some((Kind::Device, span(j)));
    }
    if mac_address(w.clean) {
        return Some((Kind::Device, w.range.clone()));
    }
    if BIOMETRIC_WORDS.contains(&bare)
        && let Some(j) = code_after(ws, i)
    {
        return Some((Kind::Biometric, span(j)));
    }
    if lc.starts_with("data:image/") || PHOTO_EXTENSIONS.iter().any(|e| lc.ends_with(e)) {
        return Some((Kind::Photograph, w.range.clone()));
    }
    if PHOTO_WORDS.contains(&bare) && lower(i + 1) == "of" {
        let who = lower(i + 2);
        let person = name_at(i + 2)
            || ["him", "her", "them"].contains(&who.as_str())
            || (["the", "his", "her", "their", "a"].contains(&who.as_str())
                && RELATIONS.contains(&lower(i + 3).as_str()));
        if person {
            return Some((Kind::Photograph, span(i + 2)));
        }
    }
    if let Some(handle) = w.clean.strip_prefix('@')
        && handle.len() >= 2
        && handle
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '.')
    {
        return Some((Kind::UniqueCode, w.range.clone()));
    }
    let raw_lc = w.raw.to_lowercase();
    let handle_like = |n: &Word<'_>| n.clean.contains(['_', '.']) || digits(n.clean) > 0;
    if (bare == "username" && ws.get(i + 1).is_some_and(handle_like)
        || ["handle:", "username:", "user:"].contains(&raw_lc.as_str()))
        && ws.get(i + 1).is_some()
    {
        return Some((Kind::UniqueCode, span(i + 1)));
    }
    if uuid(w.clean) || hex_run(w.clean) {
        return Some((Kind::UniqueCode, w.range.clone()));
    }
    // Ages: only over 89 ("aged 90 and over" is the aggregate Safe Harbor allows).
    if ["nonagenarian", "centenarian", "supercentenarian"].contains(&bare) {
        return Some((Kind::Age, w.range.clone()));
    }
    if age_word(lc).is_some_and(|a| a > 89) {
        return Some((Kind::Age, w.range.clone()));
    }
    if let Some(a) = years(w.clean)
        && a > 89
    {
        let unit = lower(i + 1);
        let one_word = ["yo", "y/o", "yrs-old", "year-old"].contains(&unit.as_str());
        let two_words = ["year", "years", "yr", "yrs"].contains(&unit.as_str())
            && (lower(i + 2) == "old" || lower(i + 2) == "of" && lower(i + 3) == "age");
        if one_word || two_words {
            return Some((Kind::Age, span(if one_word { i + 1 } else { i + 2 })));
        }
    }
    if ["age", "aged", "ages"].contains(&bare)
        && let Some(n) = ws.get(i + 1)
        && years(n.clean).is_some_and(|a| a > 89)
        && !n.raw.ends_with('+')
        && !(["and", "or"].contains(&lower(i + 2).as_str())
            && ["over", "older", "above", "up"].contains(&lower(i + 3).as_str()))
    {
        return Some((Kind::Age, span(i + 1)));
    }
    if ["his", "her", "their"].contains(&lc)
        && let Some(decade) = lower(i + 1).strip_suffix('s')
        && years(decade).is_some_and(|a| a >= 90)
    {
        return Some((Kind::Age, span(i + 1)));
    }
    // Places smaller than a state.
    if PLACE_UNITS.contains(&bare)
        && i > 0
        && is_name(ws[i - 1].clean)
        && !state_at(ws, i - 1)
        && !INSTITUTION_WORDS.contains(&lower(i + 1).as_str())
    {
        return Some((Kind::Place, ws[i - 1].range.start..w.range.end));
    }
    let lowercase_lead = w.clean.chars().next().is_some_and(char::is_lowercase);
    if (PLACE_UNITS.contains(&bare) || PLACE_LEADS.contains(&bare) && lowercase_lead)
        && lower(i + 1) == "of"
        && name_at(i + 2)
        && !state_at(ws, i + 2)
    {
        return Some((Kind::Place, span(i + 2)));
    }
    let lives = [
        "lives", "living", "lived", "resides", "residing", "hometown",
    ]
    .contains(&bare)
        || bare == "resident" && lower(i + 1) == "of";
    if lives {
        let j = if ["in", "near", "outside", "of", "is"].contains(&lower(i + 1).as_str()) {
            i + 2
        } else {
            i + 1
        };
        if name_at(j) && !state_at(ws, j) {
            return Some((Kind::Place, span(j)));
        }
    }
    if is_name(w.clean)
        && w.raw.ends_with(',')
        && !state_at(ws, i)
        && state_at(ws, i + 1)
        && !INSTITUTION_WORDS.contains(&lc)
    {
        return Some((Kind::Place, w.range.clone()));
    }
    if coordinate(w.raw) && ws.get(i + 1).is_some_and(|n| coordinate(n.raw)) {
        return Some((Kind::Place, span(i + 1)));
    }
    if let Some(n) = ws.get(i + 1)
        && postcode(w.clean, n.clean)
    {
        return Some((Kind::Place, span(i + 1)));
    }
    if bare == "box"
        && ["p.o", "po", "p.o."].contains(&lower(i.wrapping_sub(1)).as_str())
        && ws.get(i + 1).is_some_and(|n| digits(n.clean) > 0)
    {
        return Some((
            Kind::StreetAddress,
            ws[i - 1].range.start..ws[i + 1].range.end,
        ));
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
        // Textual dates: "March 14, 2026", "14 March 2026", and a day without its year
        // ("March 14", "1 May"): every date element but the year is an identifier.
        // "may" in lower case is the verb.
        if MONTHS.contains(&lc.trim_end_matches('.')) && c != "may" {
            let next = lower(i + 1);
            let next2 = lower(i + 2);
            let prev = if i > 0 { lower(i - 1) } else { String::new() };
            let prev_is_day = i > 0 && is_day(&prev);
            let start = if prev_is_day {
                ws[i - 1].range.start
            } else {
                w.range.start
            };
            let end = if is_day(&next) && is_year(&next2) {
                Some(ws[i + 2].range.end)
            } else if is_day(&next) || prev_is_day && is_year(&next) {
                Some(ws[i + 1].range.end)
            } else if prev_is_day {
                Some(w.range.end)
            } else {
                None
            };
            if let Some(end) = end {
                found.push((Kind::FullDate, start..end));
                continue;
            }
        }
        if lc == "dob" || (lc == "date" && lower(i + 1) == "of" && lower(i + 2) == "birth") {
            found.push((Kind::FullDate, w.range.clone()));
            continue;
        }
        if let Some(kind) = other_identifier(&ws, i, &lc) {
            found.push(kind);
            continue;
        }
        // Record numbers: a record word, then a code.
        if RECORD_WORDS.contains(&lc.trim_end_matches(['#', ':', '.']))
            && let Some(j) = code_after(&ws, i)
        {
            found.push((Kind::RecordNumber, w.range.start..ws[j].range.end));
            continue;
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
    // The widest finding at a position first, so what it contains is dropped.
    found.sort_by_key(|(_, r)| (r.start, std::cmp::Reverse(r.end)));
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
        // "312-555-0199", or a national number with its trunk 0 ("07700 900123").
        let phone_shaped = groups.len() > 1
            && (groups.first().is_some_and(|g| *g <= 3) && groups.last() == Some(&4)
                || stretch.trim_start().starts_with('0') && (10..=11).contains(&total));
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
