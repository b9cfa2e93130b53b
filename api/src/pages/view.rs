//! Small pieces the pages share: the field at fault in a form, times as a person reads them.

use alongside_core::CoreError;
use chrono::NaiveDateTime;

use super::Text;

/// The field a form must fix, and what to do.
#[derive(Debug, Clone)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, message: String) -> Self {
        Self {
            field: field.to_owned(),
            message,
        }
    }

    /// Core's refusal of an input, in the reader's language where the catalogue has words for
    /// that field (`field-error-FIELD`), else core's own message.
    pub fn from_core(text: Text, e: &CoreError) -> Option<Self> {
        match e {
            CoreError::BadInput { field, message } => {
                let key = format!("field-error-{field}");
                let localized = text.t(&key);
                Some(Self {
                    field: field.clone(),
                    message: if localized == key {
                        message.clone()
                    } else {
                        localized
                    },
                })
            }
            _ => None,
        }
    }
}

/// Whether `error` names `field` (templates call it through their own `error_on`).
pub fn is_on(error: &Option<FieldError>, field: &str) -> bool {
    error.as_ref().is_some_and(|e| e.field == field)
}

/// Minutes from `now` until `t`, at least 0.
pub fn minutes_until(t: NaiveDateTime, now: NaiveDateTime) -> i64 {
    ((t - now).num_seconds().max(0) + 59) / 60
}

/// The first word of a display name: what a supporter is called on the requester's page.
pub fn first_name(display_name: &str) -> String {
    display_name
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// HTML escaping for the one page built without a template.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A piece of the crisis resources: text, or a number a phone can call with one tap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    pub text: String,
    /// `tel:` target, digits only, when this piece is a phone number.
    pub tel: Option<String>,
}

/// Splits text into plain pieces and phone numbers: three-digit crisis lines (988, 911) and
/// numbers of seven or more digits, written with spaces, dots, dashes or brackets between
/// groups. Anything else (a year, a time) stays text.
pub fn phone_pieces(text: &str) -> Vec<Piece> {
    let chars: Vec<char> = text.chars().collect();
    let mut pieces = vec![];
    let mut plain = String::new();
    let mut i = 0;
    while i < chars.len() {
        let starts_number = (chars[i].is_ascii_digit()
            || (chars[i] == '(' && chars.get(i + 1).is_some_and(char::is_ascii_digit)))
            && (i == 0 || !chars[i - 1].is_alphanumeric());
        if starts_number {
            let mut j = i;
            let mut digits = String::new();
            let separator = |c: char| matches!(c, ' ' | '-' | '.' | '(' | ')');
            while j < chars.len() {
                let c = chars[j];
                if c.is_ascii_digit() {
                    digits.push(c);
                    j += 1;
                    continue;
                }
                // A run of separators counts only when a digit follows it: "(312) 555-0199".
                let mut k = j;
                while k < chars.len() && separator(chars[k]) && k - j < 3 {
                    k += 1;
                }
                let opening = digits.is_empty() && c == '(';
                if k > j
                    && (opening || !digits.is_empty())
                    && chars.get(k).is_some_and(char::is_ascii_digit)
                {
                    j = k;
                } else {
                    break;
                }
            }
            let whole_word = chars.get(j).is_none_or(|c| !c.is_alphanumeric());
            let is_line = matches!(digits.as_str(), "988" | "911" | "112" | "999")
                || (digits.len() >= 7 && digits.len() <= 15);
            if whole_word && is_line {
                if !plain.is_empty() {
                    pieces.push(Piece {
                        text: std::mem::take(&mut plain),
                        tel: None,
                    });
                }
                pieces.push(Piece {
                    text: chars[i..j].iter().collect::<String>().trim_end().to_owned(),
                    tel: Some(digits),
                });
                i = j;
                continue;
            }
            plain.extend(&chars[i..j.max(i + 1)]);
            i = j.max(i + 1);
            continue;
        }
        plain.push(chars[i]);
        i += 1;
    }
    if !plain.is_empty() {
        pieces.push(Piece {
            text: plain,
            tel: None,
        });
    }
    pieces
}

/// The catalogue name of a matching reason core gives in words (`core::matching::score`):
/// `same-profession`, … Pages word it for their reader (the requester, a coordinator).
pub fn reason_slug(reason: &str) -> Option<&'static str> {
    Some(match reason {
        "same profession" => "same-profession",
        r if r.starts_with("requested profession") => "requested-profession",
        "same specialty" => "same-specialty",
        "different specialty, as asked" => "different-specialty",
        "more experience" => "more-experience",
        "similar experience" => "similar-experience",
        "lower caseload" => "lower-caseload",
        "lived experience" => "lived-experience",
        "similar time zone" => "similar-time-zone",
        r if r.starts_with("speaks ") => "speaks",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tels(text: &str) -> Vec<String> {
        phone_pieces(text)
            .into_iter()
            .filter_map(|p| p.tel)
            .collect()
    }

    #[test]
    fn crisis_lines_and_phone_numbers_become_tap_to_call() {
        assert_eq!(
            tels("Call or text 988 now, or call 911 in an emergency."),
            ["988", "911"]
        );
        assert_eq!(
            tels("Mercy line: 555-0100 or (312) 555-0199."),
            ["5550100", "3125550199"]
        );
        assert!(tels("Open since 2026, 24/7, room 12").is_empty());
        let all: String = phone_pieces("Call 988 now")
            .into_iter()
            .map(|p| p.text)
            .collect();
        assert_eq!(all, "Call 988 now", "no text is lost");
    }
}
