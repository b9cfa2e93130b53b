//! Input checks shared by the use cases. Each failure names the field and says what to fix.

use crate::error::CoreError;

/// A required single-line text: trimmed, not empty, at most `max` characters, no control
/// characters.
pub fn line(field: &str, value: &str, max: usize) -> Result<String, CoreError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(CoreError::bad_input(field, "must not be empty"));
    }
    check_text(field, v, max, false)?;
    Ok(v.to_owned())
}

/// An optional single-line text; empty means absent.
pub fn optional_line(
    field: &str,
    value: Option<&str>,
    max: usize,
) -> Result<Option<String>, CoreError> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => check_text(field, v, max, false).map(|()| Some(v.to_owned())),
    }
}

/// A required block of text that may span lines (crisis resources, hours).
pub fn text_block(field: &str, value: &str, max: usize) -> Result<String, CoreError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(CoreError::bad_input(field, "must not be empty"));
    }
    check_text(field, v, max, true)?;
    Ok(v.to_owned())
}

fn check_text(field: &str, v: &str, max: usize, multiline: bool) -> Result<(), CoreError> {
    let count = v.chars().count();
    if count > max {
        return Err(CoreError::bad_input(
            field,
            format!("is {count} characters; at most {max}"),
        ));
    }
    if v.chars()
        .any(|c| c.is_control() && !(multiline && (c == '\n' || c == '\t')))
    {
        return Err(CoreError::bad_input(
            field,
            "must not contain control characters",
        ));
    }
    if v.chars().any(invisible) {
        return Err(CoreError::bad_input(
            field,
            "must not contain invisible or direction-changing characters",
        ));
    }
    Ok(())
}

/// Characters that change how text around them is shown without being seen: direction
/// overrides, embeddings and isolates, direction marks, zero-width spaces, word joiners, the byte
/// order mark. They let a name read differently from what it is. The zero-width joiner and
/// non-joiner stay allowed: several scripts (Persian, the Indic scripts) need them in names.
fn invisible(c: char) -> bool {
    matches!(
        c,
        '\u{061C}'
            | '\u{200B}'
            | '\u{200E}'
            | '\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}'
    )
}

/// An email address, lower-cased. Deliberately simple: one `@`, a dot in the domain, no spaces.
pub fn email(field: &str, value: &str) -> Result<String, CoreError> {
    let v = value.trim().to_lowercase();
    let valid = v.len() <= 254
        && !v.chars().any(|c| c.is_whitespace() || c.is_control())
        && match v.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            }
            None => false,
        };
    if valid {
        Ok(v)
    } else {
        Err(CoreError::bad_input(
            field,
            "is not an email address like name@hospital.org",
        ))
    }
}

/// Language tags like `en`, `es`, `pt-BR` (BCP 47 shape, not a registry check).
pub fn languages(field: &str, values: &[String]) -> Result<Vec<String>, CoreError> {
    if values.len() > 20 {
        return Err(CoreError::bad_input(field, "at most 20 languages"));
    }
    let mut out: Vec<String> = Vec::with_capacity(values.len());
    for raw in values {
        let tag = raw.trim();
        let ok = !tag.is_empty()
            && tag.len() <= 35
            && tag.split('-').all(|part| {
                !part.is_empty()
                    && part.len() <= 8
                    && part.chars().all(|c| c.is_ascii_alphanumeric())
            })
            && tag
                .split('-')
                .next()
                .is_some_and(|p| p.len() >= 2 && p.chars().all(|c| c.is_ascii_alphabetic()));
        if !ok {
            return Err(CoreError::bad_input(
                field,
                format!("{tag:?} is not a language tag like \"en\" or \"pt-BR\""),
            ));
        }
        if !out.iter().any(|t| t.eq_ignore_ascii_case(tag)) {
            out.push(tag.to_owned());
        }
    }
    Ok(out)
}

/// A phone number in E.164 form: `+`, a country code, up to 15 digits in all. Spaces, dashes,
/// dots and brackets people type are removed first.
pub fn phone(field: &str, value: &str) -> Result<String, CoreError> {
    let compact: String = value
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
        .collect();
    let digits = compact.strip_prefix('+').unwrap_or("");
    let ok = digits.len() >= 7
        && digits.len() <= 15
        && digits.chars().all(|c| c.is_ascii_digit())
        && !digits.starts_with('0');
    if ok {
        Ok(compact)
    } else {
        Err(CoreError::bad_input(
            field,
            "enter the number with its country code, for example +1 555 010 0123",
        ))
    }
}

/// An IANA time zone name such as `America/Chicago` or `UTC` (shape only).
pub fn time_zone(field: &str, value: &str) -> Result<String, CoreError> {
    let v = value.trim();
    let ok = !v.is_empty()
        && v.len() <= 64
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-' | '+'))
        && !v.starts_with('/')
        && !v.ends_with('/');
    if ok {
        Ok(v.to_owned())
    } else {
        Err(CoreError::bad_input(
            field,
            "is not a time zone name like \"America/Chicago\" or \"UTC\"",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_may_not_hide_what_they_say() {
        for bad in [
            "Ana \u{202E}gnalb",
            "Ana\u{200B}Lee",
            "\u{2066}Ana\u{2069}",
            "\u{FEFF}Ana",
            "Ana\u{200F}",
        ] {
            assert!(line("name", bad, 100).is_err(), "{bad:?}");
        }
        // Joiners are part of writing in several scripts; accents and other alphabets are names.
        for good in [
            "زهرا\u{200C}سادات",
            "José Ñúñez",
            "Ngọc Ánh",
            "Zoë O'Brien-Smith",
        ] {
            assert_eq!(line("name", good, 100).unwrap(), good);
        }
    }

    #[test]
    fn phone_numbers_are_e164_whatever_people_type() {
        assert_eq!(phone("phone", "+1 (555) 010-0123").unwrap(), "+15550100123");
        assert_eq!(phone("phone", "+34 612.345.678").unwrap(), "+34612345678");
        for bad in [
            "5550100123",
            "+0 555 010 0123",
            "+1 555 CALL",
            "+123",
            "+1234567890123456",
        ] {
            assert!(phone("phone", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn emails() {
        assert_eq!(
            email("e", " Ana@Example.ORG ").ok().as_deref(),
            Some("ana@example.org")
        );
        for bad in [
            "",
            "ana",
            "ana@",
            "@x.org",
            "a b@x.org",
            "a@b@x.org",
            "a@localhost",
            "a@x.",
        ] {
            assert!(email("e", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn lines_reject_control_characters_and_length() {
        assert!(line("f", "ok", 5).is_ok());
        assert!(line("f", "   ", 5).is_err());
        assert!(line("f", "abcdef", 5).is_err());
        assert!(line("f", "a\u{0}b", 5).is_err());
        assert!(text_block("f", "a\nb", 5).is_ok());
        assert!(line("f", "a\nb", 5).is_err());
    }

    #[test]
    fn language_tags() {
        assert!(languages("l", &["en".into(), "pt-BR".into()]).is_ok());
        assert!(languages("l", &["english!".into()]).is_err());
        assert!(languages("l", &["1x".into()]).is_err());
        assert_eq!(
            languages("l", &["en".into(), "EN".into()])
                .map(|v| v.len())
                .ok(),
            Some(1)
        );
    }
}
