//! A User resource as the node keeps it: cut down to the declared attributes with their
//! declared names, what the person's own columns are derived from, and what an answer shows.

use serde_json::{Map, Value};

use super::error::ScimError;
use super::schema::{self, Attr, ENTERPRISE, ENTERPRISE_ATTRS, Kind, USER, USER_ATTRS};
use crate::vocab::Profession;

/// Keeps only the declared attributes of `input` (a User resource), under their declared
/// names, with values of the declared type. `id`, `meta` and `schemas` are the server's.
pub fn canonical(input: &Value) -> Result<Map<String, Value>, ScimError> {
    let Some(obj) = input.as_object() else {
        return Err(ScimError::invalid_syntax("the body must be a JSON object"));
    };
    let mut out = Map::new();
    for (key, value) in obj {
        if key.eq_ignore_ascii_case(ENTERPRISE) {
            let ext = keep(ENTERPRISE_ATTRS, value, ENTERPRISE)?;
            if !ext.is_empty() {
                out.insert(ENTERPRISE.into(), Value::Object(ext));
            }
            continue;
        }
        // A core attribute may be written with its schema's URN in front (RFC 7644 §3.10).
        let name = strip_urn(key, USER).unwrap_or(key);
        if let Some(attr) = schema::find(USER_ATTRS, name)
            && let Some(v) = value_of(attr, value)?
        {
            out.insert(attr.name.into(), v);
        }
    }
    Ok(out)
}

fn keep(attrs: &[Attr], value: &Value, what: &str) -> Result<Map<String, Value>, ScimError> {
    let Some(obj) = value.as_object() else {
        return Err(ScimError::invalid_value(format!(
            "{what} must be an object"
        )));
    };
    let mut out = Map::new();
    for (key, v) in obj {
        if let Some(attr) = schema::find(attrs, key)
            && let Some(v) = value_of(attr, v)?
        {
            out.insert(attr.name.into(), v);
        }
    }
    Ok(out)
}

/// `key` without `urn:` prefix `urn` and its colon, if it has one.
pub fn strip_urn<'a>(key: &'a str, urn: &str) -> Option<&'a str> {
    let head = key.get(..urn.len())?;
    if head.eq_ignore_ascii_case(urn) {
        key[urn.len()..].strip_prefix(':')
    } else {
        None
    }
}

/// One attribute's value checked against its declaration; `None` for null (absent).
pub fn value_of(attr: &Attr, v: &Value) -> Result<Option<Value>, ScimError> {
    if v.is_null() {
        return Ok(None);
    }
    if attr.multi {
        let items: Vec<Value> = match v {
            Value::Array(items) => items.clone(),
            single => vec![single.clone()],
        };
        let mut out = Vec::with_capacity(items.len());
        for item in &items {
            if let Some(one) = single_value(attr, item)? {
                out.push(one);
            }
        }
        return Ok((!out.is_empty()).then_some(Value::Array(out)));
    }
    single_value(attr, v)
}

fn single_value(attr: &Attr, v: &Value) -> Result<Option<Value>, ScimError> {
    match (attr.kind, v) {
        (_, Value::Null) => Ok(None),
        (Kind::String, Value::String(s)) => Ok(Some(Value::String(s.clone()))),
        (Kind::Boolean, Value::Bool(b)) => Ok(Some(Value::Bool(*b))),
        // Some identity systems send booleans as text ("True").
        (Kind::Boolean, Value::String(s)) if s.eq_ignore_ascii_case("true") => {
            Ok(Some(Value::Bool(true)))
        }
        (Kind::Boolean, Value::String(s)) if s.eq_ignore_ascii_case("false") => {
            Ok(Some(Value::Bool(false)))
        }
        (Kind::Complex, Value::Object(_)) => {
            let kept = keep(attr.sub, v, attr.name)?;
            Ok((!kept.is_empty()).then_some(Value::Object(kept)))
        }
        _ => Err(ScimError::invalid_value(format!(
            "{} must be {}",
            attr.name,
            match attr.kind {
                Kind::String => "a string",
                Kind::Boolean => "true or false",
                Kind::Complex => "an object",
            }
        ))),
    }
}

/// What the node derives for the person from a User resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Derived {
    pub user_name: String,
    pub external_id: Option<String>,
    pub display_name: String,
    pub email: Option<String>,
    pub staff_id: Option<String>,
    pub department: Option<String>,
    /// From the title; `None` when no title says.
    pub profession: Option<Profession>,
    /// A mobile or work number that can receive texts (E.164), if one is given.
    pub phone: Option<String>,
    pub pager: Option<String>,
    pub locale: Option<String>,
    pub active: bool,
}

fn text_at<'a>(r: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    r.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// The entry of a multi-valued attribute to use: the primary one, else one of `types` in
/// order, else the first that is not of a type in `never`.
fn pick<'a>(items: &'a [Value], types: &[&str], never: &[&str]) -> Option<&'a str> {
    let value = |v: &'a Value| v.get("value").and_then(Value::as_str).map(str::trim);
    let type_of = |v: &Value| {
        v.get("type")
            .and_then(Value::as_str)
            .map(str::to_ascii_lowercase)
            .unwrap_or_default()
    };
    let usable = |v: &&Value| !never.contains(&type_of(v).as_str());
    items
        .iter()
        .filter(usable)
        .find(|v| v.get("primary").and_then(Value::as_bool) == Some(true))
        .or_else(|| {
            types
                .iter()
                .find_map(|t| items.iter().find(|v| type_of(v) == *t))
        })
        .or_else(|| items.iter().find(usable))
        .and_then(value)
        .filter(|s| !s.is_empty())
}

pub fn derive(r: &Map<String, Value>) -> Result<Derived, ScimError> {
    let user_name = text_at(r, "userName")
        .ok_or_else(|| ScimError::invalid_value("userName is required"))?
        .to_owned();
    let name = r.get("name").and_then(Value::as_object);
    let from_parts = name.and_then(|n| {
        let parts: Vec<&str> = ["givenName", "familyName"]
            .iter()
            .filter_map(|k| text_at(n, k))
            .collect();
        (!parts.is_empty()).then(|| parts.join(" "))
    });
    let display_name = text_at(r, "displayName")
        .map(str::to_owned)
        .or_else(|| {
            name.and_then(|n| text_at(n, "formatted"))
                .map(str::to_owned)
        })
        .or(from_parts)
        .unwrap_or_else(|| user_name.clone());
    let empty = Vec::new();
    let list = |key: &str| r.get(key).and_then(Value::as_array).unwrap_or(&empty);
    let email = pick(list("emails"), &["work"], &[])
        .map(|e| crate::validate::email("emails", e))
        .transpose()
        .map_err(ScimError::from)?;
    let phones = list("phoneNumbers");
    let phone = pick(phones, &["mobile", "work"], &["pager", "fax"])
        .map(|p| p.trim_start_matches("tel:"))
        .and_then(|p| crate::validate::phone("phoneNumbers", p).ok());
    let pager = phones
        .iter()
        .find(|v| {
            v.get("type")
                .and_then(Value::as_str)
                .is_some_and(|t| t.eq_ignore_ascii_case("pager"))
        })
        .and_then(|v| v.get("value").and_then(Value::as_str))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    let ext = r.get(ENTERPRISE).and_then(Value::as_object);
    Ok(Derived {
        external_id: text_at(r, "externalId").map(str::to_owned),
        display_name,
        email,
        staff_id: ext
            .and_then(|e| text_at(e, "employeeNumber"))
            .map(str::to_owned),
        department: ext
            .and_then(|e| text_at(e, "department"))
            .map(str::to_owned),
        profession: text_at(r, "title").map(Profession::from_title),
        phone,
        pager,
        locale: text_at(r, "preferredLanguage")
            .and_then(crate::i18n::Locale::parse)
            .map(|l| l.tag().to_owned()),
        active: r.get("active").and_then(Value::as_bool).unwrap_or(true),
        user_name,
    })
}

/// The schemas a kept resource uses.
pub fn schemas_of(r: &Map<String, Value>) -> Vec<Value> {
    let mut out = vec![Value::String(USER.into())];
    if r.contains_key(ENTERPRISE) {
        out.push(Value::String(ENTERPRISE.into()));
    }
    out
}

/// An answer's resource cut to `attributes` (only these, with `id` and `schemas` always) or
/// without `excluded` (RFC 7644 §3.9). Names may be `attr`, `attr.sub`, or URN-qualified.
pub fn project(
    mut doc: Map<String, Value>,
    attributes: &[String],
    excluded: &[String],
) -> Map<String, Value> {
    const ALWAYS: [&str; 2] = ["id", "schemas"];
    if !attributes.is_empty() {
        let wanted: Vec<(Option<String>, Option<String>, Option<String>)> =
            attributes.iter().map(|a| split_path(a)).collect();
        let keys: Vec<String> = doc.keys().cloned().collect();
        for key in keys {
            if ALWAYS.contains(&key.as_str()) {
                continue;
            }
            if key == ENTERPRISE {
                let Some(Value::Object(ext)) = doc.get_mut(&key) else {
                    continue;
                };
                let whole = wanted
                    .iter()
                    .any(|(u, a, _)| u.as_deref() == Some(ENTERPRISE) && a.is_none());
                if !whole {
                    ext.retain(|k, _| {
                        wanted.iter().any(|(u, a, _)| {
                            u.as_deref() == Some(ENTERPRISE)
                                && a.as_deref().is_some_and(|a| a.eq_ignore_ascii_case(k))
                        })
                    });
                }
                if ext.is_empty() {
                    doc.remove(&key);
                }
                continue;
            }
            let subs: Vec<&Option<String>> = wanted
                .iter()
                .filter(|(u, a, _)| {
                    u.as_deref() != Some(ENTERPRISE)
                        && a.as_deref().is_some_and(|a| a.eq_ignore_ascii_case(&key))
                })
                .map(|(_, _, s)| s)
                .collect();
            if subs.is_empty() {
                doc.remove(&key);
            } else if !subs.iter().any(|s| s.is_none()) {
                let names: Vec<String> = subs
                    .iter()
                    .filter_map(|s| s.as_ref().map(|s| s.to_lowercase()))
                    .collect();
                let keep_subs = |v: &mut Value| {
                    if let Value::Object(o) = v {
                        o.retain(|k, _| names.contains(&k.to_lowercase()));
                    }
                };
                match doc.get_mut(&key) {
                    Some(Value::Array(items)) => items.iter_mut().for_each(keep_subs),
                    Some(v) => keep_subs(v),
                    None => {}
                }
            }
        }
    } else if !excluded.is_empty() {
        for path in excluded {
            let (urn, attr, sub) = split_path(path);
            let Some(attr) = attr else { continue };
            let holder = if urn.as_deref() == Some(ENTERPRISE) {
                match doc.get_mut(ENTERPRISE) {
                    Some(Value::Object(ext)) => ext,
                    _ => continue,
                }
            } else {
                &mut doc
            };
            let Some(key) = holder
                .keys()
                .find(|k| k.eq_ignore_ascii_case(&attr))
                .cloned()
            else {
                continue;
            };
            if ALWAYS.contains(&key.as_str()) {
                continue;
            }
            match sub {
                None => {
                    holder.remove(&key);
                }
                Some(sub) => {
                    let drop_sub = |v: &mut Value| {
                        if let Value::Object(o) = v {
                            o.retain(|k, _| !k.eq_ignore_ascii_case(&sub));
                        }
                    };
                    match holder.get_mut(&key) {
                        Some(Value::Array(items)) => items.iter_mut().for_each(drop_sub),
                        Some(v) => drop_sub(v),
                        None => {}
                    }
                }
            }
        }
        if matches!(doc.get(ENTERPRISE), Some(Value::Object(o)) if o.is_empty()) {
            doc.remove(ENTERPRISE);
        }
    }
    doc
}

/// `urn:…:User:name.givenName` → (the URN if an extension's, `name`, `givenName`).
pub fn split_path(path: &str) -> (Option<String>, Option<String>, Option<String>) {
    let path = path.trim();
    if let Some(rest) = strip_urn(path, ENTERPRISE) {
        return (Some(ENTERPRISE.into()), Some(rest.to_owned()), None);
    }
    if path.eq_ignore_ascii_case(ENTERPRISE) {
        return (Some(ENTERPRISE.into()), None, None);
    }
    let rest = strip_urn(path, USER).unwrap_or(path);
    match rest.split_once('.') {
        Some((a, s)) => (None, Some(a.to_owned()), Some(s.to_owned())),
        None => (None, Some(rest.to_owned()), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_declared_attributes_are_kept_under_their_declared_names() {
        let kept = canonical(&json!({
            "schemas": [USER],
            "id": "theirs",
            "USERNAME": "bjensen",
            "addresses": [{"streetAddress": "100 Universal City Plaza"}],
            "photos": [{"value": "https://photos.example.com/profilephoto/72930000000Ccne/F"}],
            "name": {"givenName": "Barbara", "honorificPrefix": "Ms."},
            "emails": [{"value": "bjensen@example.com", "type": "work", "display": "x"}],
            (ENTERPRISE): {"employeeNumber": "701984", "manager": {"value": "26118915"}},
        }))
        .unwrap();
        assert_eq!(
            Value::Object(kept),
            json!({
                "userName": "bjensen",
                "name": {"givenName": "Barbara"},
                "emails": [{"value": "bjensen@example.com", "type": "work"}],
                (ENTERPRISE): {"employeeNumber": "701984"},
            })
        );
    }

    #[test]
    fn a_person_is_derived_from_the_resource() {
        let r = canonical(&json!({
            "userName": "bjensen@example.com",
            "name": {"givenName": "Barbara", "familyName": "Jensen"},
            "title": "Registered Nurse",
            "preferredLanguage": "es-US",
            "emails": [{"value": "home@example.com", "type": "home"}, {"value": "BJensen@Example.com", "type": "work"}],
            "phoneNumbers": [{"value": "555-0100", "type": "work"}, {"value": "+1 (555) 010-0123", "type": "mobile"}, {"value": "4411", "type": "pager"}],
            (ENTERPRISE): {"employeeNumber": "701984", "department": "Emergency"},
        }))
        .unwrap();
        let d = derive(&r).unwrap();
        assert_eq!(d.display_name, "Barbara Jensen");
        assert_eq!(d.email.as_deref(), Some("bjensen@example.com"));
        assert_eq!(d.phone.as_deref(), Some("+15550100123"));
        assert_eq!(d.pager.as_deref(), Some("4411"));
        assert_eq!(d.staff_id.as_deref(), Some("701984"));
        assert_eq!(d.profession, Some(Profession::Nurse));
        assert_eq!(d.locale.as_deref(), Some("es"));
        assert!(d.active);
    }

    #[test]
    fn projection_keeps_or_drops_what_was_asked() {
        let doc = json!({"id": "1", "schemas": [USER], "userName": "a", "displayName": "A",
            "name": {"givenName": "G", "familyName": "F"}, (ENTERPRISE): {"department": "ICU"}});
        let only = project(
            doc.as_object().unwrap().clone(),
            &["name.familyName".into()],
            &[],
        );
        assert_eq!(
            Value::Object(only),
            json!({"id": "1", "schemas": [USER], "name": {"familyName": "F"}})
        );
        let without = project(
            doc.as_object().unwrap().clone(),
            &[],
            &["displayName".into(), format!("{ENTERPRISE}:department")],
        );
        assert_eq!(
            Value::Object(without),
            json!({"id": "1", "schemas": [USER], "userName": "a", "name": {"givenName": "G", "familyName": "F"}})
        );
    }
}
