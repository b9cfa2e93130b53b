//! The filters a provisioning client uses to find a user before creating one (RFC 7644
//! §3.4.2.2): `attr eq value`, joined by `and`, on the attributes that identify someone.
//! Anything else is refused with `invalidFilter` naming what is supported.

use super::error::ScimError;
use super::resource::split_path;
use super::schema::ENTERPRISE;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cond {
    Id(String),
    UserName(String),
    ExternalId(String),
    Email(String),
    StaffId(String),
    Active(bool),
}

const SUPPORTED: &str = "supported: `attribute eq value` joined by `and`, on id, userName, \
    externalId, emails.value, active, or the enterprise employeeNumber";

pub fn parse(filter: &str) -> Result<Vec<Cond>, ScimError> {
    let tokens = tokens(filter)?;
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        let (Some(path), Some(op), Some(value)) =
            (tokens.get(i), tokens.get(i + 1), tokens.get(i + 2))
        else {
            return Err(ScimError::invalid_filter(format!(
                "{filter:?} is incomplete; {SUPPORTED}"
            )));
        };
        if !op.eq_ignore_ascii_case("eq") {
            return Err(ScimError::invalid_filter(format!(
                "operator {op:?} is not supported; {SUPPORTED}"
            )));
        }
        out.push(cond(path, value)?);
        i += 3;
        match tokens.get(i) {
            None => return Ok(out),
            Some(t) if t.eq_ignore_ascii_case("and") => i += 1,
            Some(t) => {
                return Err(ScimError::invalid_filter(format!(
                    "{t:?} is not supported here; {SUPPORTED}"
                )));
            }
        }
    }
}

fn cond(path: &str, value: &str) -> Result<Cond, ScimError> {
    let parsed: serde_json::Value = serde_json::from_str(value).map_err(|_| {
        ScimError::invalid_filter(format!("{value:?} is not a quoted string, true or false"))
    })?;
    let text = || {
        parsed
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| ScimError::invalid_filter(format!("{path} takes a quoted string")))
    };
    let (urn, attr, sub) = split_path(path);
    let attr = attr.unwrap_or_default().to_ascii_lowercase();
    let sub = sub.map(|s| s.to_ascii_lowercase());
    Ok(match (urn.as_deref(), attr.as_str(), sub.as_deref()) {
        (None, "id", None) => Cond::Id(text()?),
        (None, "username", None) => Cond::UserName(text()?),
        (None, "externalid", None) => Cond::ExternalId(text()?),
        (None, "emails", None | Some("value")) => Cond::Email(text()?),
        (None, "active", None) => Cond::Active(
            parsed
                .as_bool()
                .ok_or_else(|| ScimError::invalid_filter("active takes true or false"))?,
        ),
        (Some(ENTERPRISE), "employeenumber", None) | (None, "employeenumber", None) => {
            Cond::StaffId(text()?)
        }
        _ => {
            return Err(ScimError::invalid_filter(format!(
                "filtering on {path:?} is not supported; {SUPPORTED}"
            )));
        }
    })
}

/// Splits on spaces outside quoted strings, keeping each quoted string whole.
fn tokens(filter: &str) -> Result<Vec<String>, ScimError> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = filter.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                cur.push(c);
                loop {
                    match chars.next() {
                        Some('\\') => {
                            cur.push('\\');
                            if let Some(n) = chars.next() {
                                cur.push(n);
                            }
                        }
                        Some('"') => {
                            cur.push('"');
                            break;
                        }
                        Some(n) => cur.push(n),
                        None => {
                            return Err(ScimError::invalid_filter("a quoted string is not closed"));
                        }
                    }
                }
            }
            c if c.is_whitespace() => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            '(' | ')' | '[' | ']' => {
                return Err(ScimError::invalid_filter(format!(
                    "grouping is not supported; {SUPPORTED}"
                )));
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filters_provisioning_clients_send_parse() {
        assert_eq!(
            parse(r#"userName eq "bjensen""#).unwrap(),
            vec![Cond::UserName("bjensen".into())]
        );
        assert_eq!(
            parse(r#"externalId EQ "a \"b\"" and active eq true"#).unwrap(),
            vec![Cond::ExternalId("a \"b\"".into()), Cond::Active(true)]
        );
        assert_eq!(
            parse(&format!(r#"{ENTERPRISE}:employeeNumber eq "701984""#)).unwrap(),
            vec![Cond::StaffId("701984".into())]
        );
        assert_eq!(
            parse(r#"emails.value eq "a@b.org""#).unwrap(),
            vec![Cond::Email("a@b.org".into())]
        );
    }

    #[test]
    fn other_filters_are_refused_with_invalid_filter() {
        for f in [
            r#"userName sw "b""#,
            r#"title eq "x""#,
            r#"userName eq "x" or userName eq "y""#,
            r#"(userName eq "x")"#,
            r#"userName eq "x"#,
            "userName eq",
            r#"active eq "yes""#,
        ] {
            assert_eq!(
                parse(f).unwrap_err().scim_type,
                Some("invalidFilter"),
                "{f}"
            );
        }
    }
}
