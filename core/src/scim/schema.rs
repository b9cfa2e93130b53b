//! The attributes the node keeps from a hospital's identity system, declared once: the
//! `/Schemas` document is built from this list, incoming resources are cut down to it (so
//! nothing the node does not need — addresses, photos, certificates — is ever stored), and
//! attribute names are matched against it without regard to case (RFC 7643 §2.1).

use serde_json::{Value, json};

pub const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const LIST: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
pub const SEARCH: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
const SPC: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
const RESOURCE_TYPE: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
const SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";

/// The most resources one list answer holds.
pub const MAX_RESULTS: i64 = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    String,
    Boolean,
    Complex,
}

#[derive(Debug)]
pub struct Attr {
    pub name: &'static str,
    pub kind: Kind,
    pub multi: bool,
    pub required: bool,
    pub case_exact: bool,
    pub unique: bool,
    pub sub: &'static [Attr],
    pub description: &'static str,
}

const fn text(name: &'static str, description: &'static str) -> Attr {
    Attr {
        name,
        kind: Kind::String,
        multi: false,
        required: false,
        case_exact: false,
        unique: false,
        sub: &[],
        description,
    }
}

const fn boolean(name: &'static str, description: &'static str) -> Attr {
    Attr {
        kind: Kind::Boolean,
        ..text(name, description)
    }
}

const fn complex(
    name: &'static str,
    multi: bool,
    sub: &'static [Attr],
    description: &'static str,
) -> Attr {
    Attr {
        kind: Kind::Complex,
        multi,
        sub,
        ..text(name, description)
    }
}

const TYPED_VALUE: [Attr; 3] = [
    text("value", "The address or number."),
    text("type", "work, mobile, home, pager, other."),
    boolean("primary", "The one to use first."),
];

/// The core User attributes the node keeps.
pub const USER_ATTRS: &[Attr] = &[
    Attr {
        required: true,
        unique: true,
        ..text(
            "userName",
            "The identity system's unique name for the person.",
        )
    },
    Attr {
        case_exact: true,
        ..text("externalId", "The identity system's own id for the person.")
    },
    complex(
        "name",
        false,
        &[
            text("formatted", "The full name."),
            text("familyName", "Family name."),
            text("givenName", "Given name."),
        ],
        "The person's name.",
    ),
    text(
        "displayName",
        "The name shown to colleagues and coordinators.",
    ),
    text(
        "title",
        "Job title: the node derives the profession from it.",
    ),
    text(
        "preferredLanguage",
        "The language to write to them in (en, es).",
    ),
    boolean(
        "active",
        "False when they have left: history is kept, contact stops.",
    ),
    complex("emails", true, &TYPED_VALUE, "Work email addresses."),
    complex(
        "phoneNumbers",
        true,
        &TYPED_VALUE,
        "Phone and pager numbers; a mobile number in +country form receives text messages.",
    ),
];

/// The enterprise extension attributes the node keeps.
pub const ENTERPRISE_ATTRS: &[Attr] = &[
    text(
        "employeeNumber",
        "The hospital's staff id, as incident reports name people.",
    ),
    text("department", "Coarse department, e.g. Emergency."),
];

/// The declared attribute named `name` (any case) in `attrs`.
pub fn find<'a>(attrs: &'a [Attr], name: &str) -> Option<&'a Attr> {
    attrs.iter().find(|a| a.name.eq_ignore_ascii_case(name))
}

fn attr_doc(a: &Attr) -> Value {
    let kind = match a.kind {
        Kind::String => "string",
        Kind::Boolean => "boolean",
        Kind::Complex => "complex",
    };
    let mut doc = json!({
        "name": a.name,
        "type": kind,
        "multiValued": a.multi,
        "description": a.description,
        "required": a.required,
        "mutability": "readWrite",
        "returned": "default",
        "uniqueness": if a.unique { "server" } else { "none" },
    });
    if a.kind == Kind::String {
        doc["caseExact"] = json!(a.case_exact);
    }
    if !a.sub.is_empty() {
        doc["subAttributes"] = Value::Array(a.sub.iter().map(attr_doc).collect());
    }
    doc
}

fn meta(base: &str, kind: &str, path: &str) -> Value {
    json!({ "resourceType": kind, "location": format!("{base}{path}") })
}

/// The `/Schemas` resources: the User schema and the enterprise extension, as far as kept.
pub fn schemas(base: &str) -> Vec<Value> {
    vec![
        json!({
            "schemas": [SCHEMA],
            "id": USER,
            "name": "User",
            "description": "A member of staff",
            "attributes": USER_ATTRS.iter().map(attr_doc).collect::<Vec<_>>(),
            "meta": meta(base, "Schema", &format!("/Schemas/{USER}")),
        }),
        json!({
            "schemas": [SCHEMA],
            "id": ENTERPRISE,
            "name": "EnterpriseUser",
            "description": "Enterprise user",
            "attributes": ENTERPRISE_ATTRS.iter().map(attr_doc).collect::<Vec<_>>(),
            "meta": meta(base, "Schema", &format!("/Schemas/{ENTERPRISE}")),
        }),
    ]
}

/// The `/ResourceTypes` resources: only User.
pub fn resource_types(base: &str) -> Vec<Value> {
    vec![json!({
        "schemas": [RESOURCE_TYPE],
        "id": "User",
        "name": "User",
        "endpoint": "/Users",
        "description": "A member of staff",
        "schema": USER,
        "schemaExtensions": [{ "schema": ENTERPRISE, "required": false }],
        "meta": meta(base, "ResourceType", "/ResourceTypes/User"),
    })]
}

/// `/ServiceProviderConfig`: what this node supports.
pub fn service_provider_config(base: &str) -> Value {
    json!({
        "schemas": [SPC],
        "patch": { "supported": true },
        "bulk": { "supported": false, "maxOperations": 0, "maxPayloadSize": 0 },
        "filter": { "supported": true, "maxResults": MAX_RESULTS },
        "changePassword": { "supported": false },
        "sort": { "supported": false },
        "etag": { "supported": false },
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth bearer token",
            "description": "A partner client's access token with the scim scope (client credentials at /oauth/token).",
            "primary": true,
        }],
        "meta": meta(base, "ServiceProviderConfig", "/ServiceProviderConfig"),
    })
}
