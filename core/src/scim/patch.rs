//! PATCH (RFC 7644 §3.5.2): `add`, `replace` and `remove` on a kept User resource, with paths
//! `attr`, `attr.sub`, `attr[filter]`, `attr[filter].sub`, any of them URN-qualified.
//! Attributes the node does not keep are ignored, as they are in POST and PUT; the result is
//! checked against the declared schema before anything is stored.

use serde_json::{Map, Value};

use super::error::ScimError;
use super::resource::{canonical, split_path};
use super::schema::{self, Attr, ENTERPRISE, ENTERPRISE_ATTRS, Kind, PATCH_OP, USER_ATTRS};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Add,
    Replace,
    Remove,
}

/// One condition of a value filter: `type eq "work"`.
type ValueFilter = Vec<(String, Value)>;

struct Target {
    /// The enterprise extension, or the core schema.
    extension: bool,
    attr: &'static Attr,
    filter: Option<ValueFilter>,
    sub: Option<&'static Attr>,
}

/// Applies a PatchOp request to `resource`, returning the new resource.
pub fn apply(resource: &Map<String, Value>, body: &Value) -> Result<Map<String, Value>, ScimError> {
    let schemas_ok = body
        .get("schemas")
        .and_then(Value::as_array)
        .is_some_and(|s| s.iter().any(|u| u.as_str() == Some(PATCH_OP)));
    if !schemas_ok {
        return Err(ScimError::invalid_syntax(format!(
            "schemas must include {PATCH_OP}"
        )));
    }
    let ops = body
        .get("Operations")
        .or_else(|| body.get("operations"))
        .and_then(Value::as_array)
        .ok_or_else(|| ScimError::invalid_syntax("Operations must be a list"))?;
    let mut doc = Value::Object(resource.clone());
    for (i, op) in ops.iter().enumerate() {
        let name = op.get("op").and_then(Value::as_str).unwrap_or_default();
        let kind = match name.to_ascii_lowercase().as_str() {
            "add" => Op::Add,
            "replace" => Op::Replace,
            "remove" => Op::Remove,
            _ => {
                return Err(ScimError::invalid_syntax(format!(
                    "Operations[{i}].op {name:?} must be add, replace or remove"
                )));
            }
        };
        let value = op.get("value").cloned().unwrap_or(Value::Null);
        match op
            .get("path")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            Some(path) if path.eq_ignore_ascii_case(ENTERPRISE) => {
                whole_extension(&mut doc, kind, value)?;
            }
            Some(path) => {
                if let Some(t) = target(path)? {
                    one(&mut doc, kind, &t, value)?;
                }
            }
            None => {
                if kind == Op::Remove {
                    return Err(ScimError::no_target(format!(
                        "Operations[{i}]: remove needs a path"
                    )));
                }
                let Value::Object(fields) = value else {
                    return Err(ScimError::invalid_value(format!(
                        "Operations[{i}]: without a path, value must be an object"
                    )));
                };
                for (key, v) in fields {
                    if key.eq_ignore_ascii_case(ENTERPRISE) {
                        let Value::Object(ext) = v else {
                            return Err(ScimError::invalid_value(format!(
                                "{ENTERPRISE} must be an object"
                            )));
                        };
                        for (k, v) in ext {
                            if let Some(t) = target(&format!("{ENTERPRISE}:{k}"))? {
                                one(&mut doc, kind, &t, v)?;
                            }
                        }
                    } else if let Some(t) = target(&key)? {
                        one(&mut doc, kind, &t, v)?;
                    }
                }
            }
        }
    }
    canonical(&doc)
}

/// The enterprise extension as a whole: `remove` drops it, `replace` sets it, `add` merges.
fn whole_extension(doc: &mut Value, kind: Op, value: Value) -> Result<(), ScimError> {
    let Value::Object(root) = doc else {
        return Err(ScimError::invalid_syntax("the resource is not an object"));
    };
    match (kind, value) {
        (Op::Remove, _) => {
            root.remove(ENTERPRISE);
        }
        (Op::Replace, Value::Object(v)) => {
            root.insert(ENTERPRISE.to_owned(), Value::Object(v));
        }
        (Op::Add, Value::Object(v)) => {
            let cur = root
                .entry(ENTERPRISE.to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            merge(cur, Value::Object(v))?;
        }
        _ => {
            return Err(ScimError::invalid_value(format!(
                "{ENTERPRISE} takes an object"
            )));
        }
    }
    Ok(())
}

/// The attribute a path names, or `None` for one the node does not keep.
fn target(path: &str) -> Result<Option<Target>, ScimError> {
    let (head, filter, tail) = match (path.find('['), path.find(']')) {
        (Some(open), Some(close)) if close > open => (
            &path[..open],
            Some(value_filter(&path[open + 1..close])?),
            path[close + 1..].strip_prefix('.'),
        ),
        (None, None) => (path, None, None),
        _ => {
            return Err(ScimError::invalid_path(format!(
                "{path:?}: unbalanced brackets"
            )));
        }
    };
    let (urn, attr, sub) = split_path(head);
    let extension = urn.as_deref() == Some(ENTERPRISE);
    let attrs = if extension {
        ENTERPRISE_ATTRS
    } else {
        USER_ATTRS
    };
    let Some(attr_name) = attr else {
        return Err(ScimError::invalid_path(format!(
            "{path:?}: name an attribute of the extension, e.g. {ENTERPRISE}:department"
        )));
    };
    let Some(attr) = schema::find(attrs, &attr_name) else {
        return Ok(None);
    };
    let sub_name = tail.map(str::to_owned).or(sub);
    let sub = match sub_name {
        Some(s) => match schema::find(attr.sub, &s) {
            Some(a) => Some(a),
            None if attr.sub.is_empty() => {
                return Err(ScimError::invalid_path(format!(
                    "{path:?}: {} has no sub-attributes",
                    attr.name
                )));
            }
            None => return Ok(None),
        },
        None => None,
    };
    if filter.is_some() && !attr.multi {
        return Err(ScimError::invalid_path(format!(
            "{path:?}: {} is not multi-valued",
            attr.name
        )));
    }
    Ok(Some(Target {
        extension,
        attr,
        filter,
        sub,
    }))
}

/// `type eq "work" and primary eq true` inside brackets.
fn value_filter(text: &str) -> Result<ValueFilter, ScimError> {
    let mut out = Vec::new();
    for part in split_and(text) {
        let mut it = part.splitn(3, char::is_whitespace);
        let (Some(name), Some(op), Some(value)) = (it.next(), it.next(), it.next()) else {
            return Err(ScimError::invalid_filter(format!(
                "[{text}]: use `sub eq value`"
            )));
        };
        if !op.eq_ignore_ascii_case("eq") {
            return Err(ScimError::invalid_filter(format!(
                "[{text}]: only eq is supported"
            )));
        }
        let value: Value = serde_json::from_str(value.trim()).map_err(|_| {
            ScimError::invalid_filter(format!(
                "[{text}]: {value:?} is not a quoted string, true or false"
            ))
        })?;
        out.push((name.to_owned(), value));
    }
    Ok(out)
}

fn split_and(text: &str) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut quoted = false;
    let words: Vec<&str> = text.split(' ').collect();
    for w in words {
        if !quoted && w.eq_ignore_ascii_case("and") {
            parts.push(String::new());
            continue;
        }
        quoted ^= w.matches('"').count() % 2 == 1;
        let last = parts.last_mut();
        if let Some(last) = last {
            if !last.is_empty() {
                last.push(' ');
            }
            last.push_str(w);
        }
    }
    parts.into_iter().filter(|p| !p.trim().is_empty()).collect()
}

fn matches(item: &Value, filter: &ValueFilter) -> bool {
    filter.iter().all(|(name, want)| {
        let got = item.as_object().and_then(|o| {
            o.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
        });
        match (got, want) {
            (Some(Value::String(a)), Value::String(b)) => a.eq_ignore_ascii_case(b),
            (Some(a), b) => a == b,
            (None, Value::Bool(false)) => true,
            (None, _) => false,
        }
    })
}

fn one(doc: &mut Value, op: Op, t: &Target, value: Value) -> Result<(), ScimError> {
    let Value::Object(root) = doc else {
        return Err(ScimError::invalid_syntax("the resource is not an object"));
    };
    let holder: &mut Map<String, Value> = if t.extension {
        let ext = root
            .entry(ENTERPRISE.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        match ext {
            Value::Object(o) => o,
            _ => {
                return Err(ScimError::invalid_value(format!(
                    "{ENTERPRISE} must be an object"
                )));
            }
        }
    } else {
        root
    };
    let key = t.attr.name.to_owned();
    if op != Op::Remove && value.is_null() {
        return Err(ScimError::invalid_value(format!("{key}: give a value")));
    }
    match (t.attr.multi, &t.filter, t.sub) {
        // The whole attribute.
        (false, None, None) => match op {
            Op::Remove => {
                holder.remove(&key);
            }
            Op::Add if t.attr.kind == Kind::Complex => {
                let cur = holder
                    .entry(key)
                    .or_insert_with(|| Value::Object(Map::new()));
                merge(cur, value)?;
            }
            _ => {
                holder.insert(key, value);
            }
        },
        // A sub-attribute of a single complex attribute (`name.givenName`).
        (false, None, Some(sub)) => {
            let cur = holder
                .entry(key.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            let Value::Object(o) = cur else {
                return Err(ScimError::invalid_value(format!("{key} must be an object")));
            };
            if op == Op::Remove {
                o.remove(sub.name);
            } else {
                o.insert(sub.name.to_owned(), value);
            }
            if o.is_empty() {
                holder.remove(&key);
            }
        }
        (false, Some(_), _) => {
            return Err(ScimError::invalid_path(format!(
                "{key} is not multi-valued"
            )));
        }
        // A multi-valued attribute, whole.
        (true, None, None) => {
            let items = as_items(value);
            match op {
                Op::Remove => {
                    holder.remove(&key);
                }
                Op::Replace => {
                    holder.insert(key, Value::Array(items));
                }
                Op::Add => {
                    let list = holder
                        .entry(key.clone())
                        .or_insert_with(|| Value::Array(vec![]));
                    let Value::Array(list) = list else {
                        return Err(ScimError::invalid_value(format!("{key} must be a list")));
                    };
                    for item in items {
                        if !list.contains(&item) {
                            list.push(item);
                        }
                    }
                }
            }
        }
        // `emails.value` without a filter: every item.
        (true, None, Some(sub)) => {
            if let Some(Value::Array(list)) = holder.get_mut(&key) {
                for item in list.iter_mut() {
                    set_sub(item, sub, op, &value);
                }
            } else if op != Op::Remove {
                let mut item = Map::new();
                item.insert(sub.name.to_owned(), value);
                holder.insert(key, Value::Array(vec![Value::Object(item)]));
            }
        }
        // The items a value filter selects (`emails[type eq "work"]`), or a sub-attribute of them.
        (true, Some(filter), sub) => {
            let list = holder
                .entry(key.clone())
                .or_insert_with(|| Value::Array(vec![]));
            let Value::Array(list) = list else {
                return Err(ScimError::invalid_value(format!("{key} must be a list")));
            };
            let hits = list.iter().filter(|v| matches(v, filter)).count();
            match (op, sub) {
                (Op::Remove, None) => list.retain(|v| !matches(v, filter)),
                (Op::Remove, Some(sub)) => list
                    .iter_mut()
                    .filter(|v| matches(v, filter))
                    .for_each(|v| set_sub(v, sub, op, &value)),
                (_, _) if hits == 0 => {
                    // Identity systems replace `emails[type eq "work"].value` on a user who has
                    // none yet: the item the filter describes is added.
                    let mut item = Map::new();
                    for (name, want) in filter {
                        if let Some(a) = schema::find(t.attr.sub, name) {
                            item.insert(a.name.to_owned(), want.clone());
                        }
                    }
                    let mut item = Value::Object(item);
                    match sub {
                        Some(sub) => set_sub(&mut item, sub, op, &value),
                        None => merge(&mut item, value)?,
                    }
                    list.push(item);
                }
                (_, Some(sub)) => list
                    .iter_mut()
                    .filter(|v| matches(v, filter))
                    .for_each(|v| set_sub(v, sub, op, &value)),
                (Op::Replace, None) => {
                    for v in list.iter_mut().filter(|v| matches(v, filter)) {
                        *v = value.clone();
                    }
                }
                (_, None) => {
                    for v in list.iter_mut().filter(|v| matches(v, filter)) {
                        merge(v, value.clone())?;
                    }
                }
            }
            if list.is_empty() {
                holder.remove(&key);
            }
        }
    }
    if t.extension && holder.is_empty() {
        root.remove(ENTERPRISE);
    }
    Ok(())
}

fn as_items(value: Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items,
        Value::Null => vec![],
        one => vec![one],
    }
}

fn set_sub(item: &mut Value, sub: &Attr, op: Op, value: &Value) {
    if let Value::Object(o) = item {
        if op == Op::Remove {
            o.remove(sub.name);
        } else {
            o.insert(sub.name.to_owned(), value.clone());
        }
    }
}

fn merge(into: &mut Value, value: Value) -> Result<(), ScimError> {
    match (into, value) {
        (Value::Object(cur), Value::Object(new)) => {
            cur.extend(new);
            Ok(())
        }
        _ => Err(ScimError::invalid_value(
            "give an object for a complex attribute",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn patch(resource: Value, ops: Value) -> Result<Value, ScimError> {
        apply(
            resource.as_object().unwrap(),
            &json!({"schemas": [PATCH_OP], "Operations": ops}),
        )
        .map(Value::Object)
    }

    #[test]
    fn replace_add_and_remove_as_identity_systems_send_them() {
        let r = json!({"userName": "a", "emails": [{"value": "a@x.org", "type": "work"}]});
        let out = patch(r.clone(), json!([
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "b@x.org"},
            {"op": "Add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+15550100123"},
            {"op": "replace", "value": {"active": "False", "displayName": "B",
                (ENTERPRISE): {"department": "ICU"}, "nickName": "ignored"}},
            {"op": "add", "path": format!("{ENTERPRISE}:employeeNumber"), "value": "42"},
            {"op": "add", "path": "name.givenName", "value": "Bea"},
        ])).unwrap();
        assert_eq!(
            out,
            json!({
                "userName": "a",
                "emails": [{"value": "b@x.org", "type": "work"}],
                "phoneNumbers": [{"type": "mobile", "value": "+15550100123"}],
                "active": false,
                "displayName": "B",
                (ENTERPRISE): {"department": "ICU", "employeeNumber": "42"},
                "name": {"givenName": "Bea"},
            })
        );
        let out = patch(
            out,
            json!([
                {"op": "remove", "path": "emails[type eq \"work\"]"},
                {"op": "remove", "path": format!("{ENTERPRISE}:department")},
                {"op": "remove", "path": "name.givenName"},
            ]),
        )
        .unwrap();
        assert_eq!(out.get("emails"), None);
        assert_eq!(out.get("name"), None);
        assert_eq!(out[ENTERPRISE], json!({"employeeNumber": "42"}));
        let out = patch(out, json!([{"op": "remove", "path": ENTERPRISE}])).unwrap();
        assert_eq!(out.get(ENTERPRISE), None);
    }

    #[test]
    fn bad_patches_say_what_is_wrong() {
        let r = json!({"userName": "a"});
        let code = |ops: Value| patch(r.clone(), ops).unwrap_err().scim_type;
        assert_eq!(code(json!([{"op": "remove"}])), Some("noTarget"));
        assert_eq!(
            code(json!([{"op": "move", "path": "userName"}])),
            Some("invalidSyntax")
        );
        assert_eq!(
            code(json!([{"op": "add", "path": "displayName[type eq \"x\"]", "value": "v"}])),
            Some("invalidPath")
        );
        assert_eq!(
            code(json!([{"op": "replace", "path": "active", "value": 3}])),
            Some("invalidValue")
        );
        assert_eq!(
            apply(r.as_object().unwrap(), &json!({"Operations": []}))
                .unwrap_err()
                .scim_type,
            Some("invalidSyntax")
        );
    }
}
