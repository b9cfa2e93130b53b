//! Comma-separated values as spreadsheets and HR systems write them (RFC 4180): fields in
//! double quotes may hold commas, quotes (doubled) and line breaks; lines end in LF or CRLF.

/// One record and the line it starts on (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub line: usize,
    pub fields: Vec<String>,
}

/// Splits `text` into records, skipping blank lines; an unclosed quote is an error naming the
/// line it opened on.
pub fn records(text: &str) -> Result<Vec<Record>, (usize, String)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Vec::new();
    let mut fields: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut line = 1;
    let mut start = 1;
    let mut chars = text.chars().peekable();
    let mut any = false;
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                '\n' => {
                    line += 1;
                    field.push('\n');
                }
                c => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() => {
                quoted = true;
                any = true;
            }
            ',' => {
                fields.push(std::mem::take(&mut field));
                any = true;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                if any || !field.is_empty() {
                    fields.push(std::mem::take(&mut field));
                    out.push(Record {
                        line: start,
                        fields: std::mem::take(&mut fields),
                    });
                }
                any = false;
                line += 1;
                start = line;
            }
            c => {
                field.push(c);
                any = true;
            }
        }
    }
    if quoted {
        return Err((start, "a quoted field is not closed".into()));
    }
    if any || !field.is_empty() {
        fields.push(field);
        out.push(Record {
            line: start,
            fields,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_commas_and_line_breaks() {
        let got = records("\u{feff}a,b\r\n\r\n\"x, \"\"y\"\"\",\"two\nlines\"\n1,\n").unwrap();
        assert_eq!(
            got,
            vec![
                Record {
                    line: 1,
                    fields: vec!["a".into(), "b".into()]
                },
                Record {
                    line: 3,
                    fields: vec!["x, \"y\"".into(), "two\nlines".into()]
                },
                Record {
                    line: 5,
                    fields: vec!["1".into(), String::new()]
                },
            ]
        );
        assert_eq!(records("a,\"open\n").unwrap_err().0, 1);
    }
}
