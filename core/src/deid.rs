//! Refuses identifiers in the few short texts that describe an event (department, the incident
//! system's reference, a preferred first name): email addresses, phone and fax numbers, SSNs,
//! URLs and IP addresses, full dates, record numbers and ZIP codes. Each refusal names the field
//! and what was found, never echoing the value. The federation's gate will build on this.

use crate::error::CoreError;

/// What kind of identifier a text seems to contain.
pub fn find_identifier(text: &str) -> Option<&'static str> {
    let lower = text.to_lowercase();
    if text.contains('@') {
        return Some("an email address");
    }
    if lower.contains("http://") || lower.contains("https://") || lower.contains("www.") {
        return Some("a URL");
    }
    for marker in [
        "mrn",
        "medical record",
        "patient",
        "dob",
        "date of birth",
        "ssn",
    ] {
        if lower.contains(marker) {
            return Some("a patient or record identifier");
        }
    }
    if looks_like_ip(text) {
        return Some("an IP address");
    }
    if looks_like_full_date(text) {
        return Some("a full date");
    }
    let digit_runs = text
        .split(|c: char| !c.is_ascii_digit())
        .filter(|r| !r.is_empty());
    // Stretches of digits joined by phone punctuation: 312-555-0199, (312) 555 0199, 123-45-6789.
    for stretch in text.split(|c: char| !(c.is_ascii_digit() || " ()-+.".contains(c))) {
        let digits = stretch.chars().filter(char::is_ascii_digit).count();
        let groups: Vec<usize> = stretch
            .split(|c: char| !c.is_ascii_digit())
            .filter(|g| !g.is_empty())
            .map(str::len)
            .collect();
        if groups == [3, 2, 4] {
            return Some("a social security number");
        }
        let phone_shaped = groups.len() > 1
            && groups.first().is_some_and(|g| *g <= 3)
            && groups.last() == Some(&4);
        if (7..=15).contains(&digits) && phone_shaped {
            return Some("a phone, fax or record number");
        }
    }
    if digit_runs.clone().any(|r| r.len() == 5)
        && text
            .split_whitespace()
            .any(|w| w.len() == 5 && w.chars().all(|c| c.is_ascii_digit()))
    {
        return Some("a ZIP code");
    }
    if digit_runs.clone().any(|r| r.len() >= 7) {
        return Some("a long number (phone, record or account)");
    }
    None
}

fn looks_like_ip(text: &str) -> bool {
    text.split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .any(|token| {
            let parts: Vec<&str> = token.split('.').collect();
            parts.len() == 4
                && parts.iter().all(|p| {
                    !p.is_empty() && p.len() <= 3 && p.parse::<u16>().is_ok_and(|n| n <= 255)
                })
        })
}

fn looks_like_full_date(text: &str) -> bool {
    // 2026-03-14, 03/14/2026, 14.03.2026: three numeric parts with a 4-digit year.
    text.split(|c: char| c.is_whitespace() || c == ',' || c == ';')
        .any(|token| {
            for sep in ['-', '/', '.'] {
                let parts: Vec<&str> = token.split(sep).collect();
                if parts.len() == 3
                    && parts
                        .iter()
                        .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
                    && parts.iter().any(|p| p.len() == 4)
                    && parts.iter().filter(|p| p.len() <= 2).count() == 2
                {
                    return true;
                }
            }
            false
        })
}

/// Refuses `value` if it carries an identifier.
pub fn check(field: &str, value: &str) -> Result<(), CoreError> {
    match find_identifier(value) {
        Some(what) => Err(CoreError::bad_input(
            field,
            format!(
                "seems to contain {what}; Alongside stores no identifiers or case details here"
            ),
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_identifiers() {
        for (text, what) in [
            ("jane.doe@hospital.org", "email"),
            ("call 312-555-0199", "phone"),
            ("(312) 555 0199", "phone"),
            ("+44 20 7946 0958", "phone"),
            ("ext 555-0199", "phone"),
            ("MRN 00012345", "record"),
            ("Patient John Smith", "patient"),
            ("see https://intranet/case/5", "URL"),
            ("10.0.0.12", "IP"),
            ("2026-03-14", "full date"),
            ("03/14/2026", "full date"),
            ("123-45-6789", "social security"),
            ("Chicago 60614", "ZIP"),
        ] {
            let found = find_identifier(text).unwrap_or("nothing");
            assert!(found.contains(what), "{text}: found {found}");
        }
    }

    #[test]
    fn leaves_ordinary_values_alone() {
        for text in [
            "Emergency",
            "ICU",
            "INC-2026-0042",
            "2026-0042",
            "RL6-88812",
            "Labor & Delivery",
            "Sam",
            "2026-03",
        ] {
            assert_eq!(find_identifier(text), None, "{text}");
        }
    }
}
