//! Partner applications: OAuth2 clients that get access tokens with the client-credentials grant.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use uuid::Uuid;

use crate::access::{ClientPrincipal, Scope};
use crate::db::{Db, DbConnection, Id};
use crate::error::CoreError;
use crate::ids::new_id;
use crate::schema::oauth_clients;
use crate::stored::{from_json, to_json};
use crate::tokens::{AccessToken, TokenService};
use crate::{secrets, time, validate};

#[derive(Debug, Clone)]
pub struct OauthClient {
    pub client_id: String,
    pub name: String,
    pub scopes: BTreeSet<Scope>,
    pub disabled: bool,
    pub created_at: NaiveDateTime,
}

/// A new client and its secret, shown once and never stored in the clear.
#[derive(Debug)]
pub struct CreatedClient {
    pub client: OauthClient,
    pub secret: String,
}

pub fn parse_scopes<S: AsRef<str>>(names: &[S]) -> Result<BTreeSet<Scope>, CoreError> {
    names
        .iter()
        .flat_map(|n| {
            n.as_ref()
                .split([' ', ','])
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .map(|n| n.parse::<Scope>())
        .collect()
}

/// Registers a partner client. Operators do this with `alongside admin create-client`.
pub fn create(
    conn: &mut DbConnection,
    name: &str,
    scopes: BTreeSet<Scope>,
) -> Result<CreatedClient, CoreError> {
    let name = validate::line("name", name, 120)?;
    if scopes.is_empty() {
        return Err(CoreError::bad_input("scopes", "give at least one scope"));
    }
    let client_id = format!("cl_{}", Uuid::new_v4().simple());
    let secret = secrets::random_token()?;
    let now = time::now();
    let scope_names: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
    diesel::insert_into(oauth_clients::table)
        .values((
            oauth_clients::id.eq(Id(new_id())),
            oauth_clients::client_id.eq(&client_id),
            oauth_clients::name.eq(&name),
            oauth_clients::secret_hash.eq(secrets::sha256_hex(&secret)),
            oauth_clients::scopes.eq(to_json(&scope_names)?),
            oauth_clients::disabled.eq(false),
            oauth_clients::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(CreatedClient {
        client: OauthClient {
            client_id,
            name,
            scopes,
            disabled: false,
            created_at: now,
        },
        secret,
    })
}

/// Why a client-credentials request failed, in the vocabulary of RFC 6749 §5.2.
#[derive(Debug, thiserror::Error)]
pub enum GrantError {
    #[error("client authentication failed")]
    InvalidClient,
    #[error("{0}")]
    InvalidScope(String),
    #[error(transparent)]
    Other(#[from] CoreError),
}

/// The client-credentials grant: checks the secret, narrows to the requested scopes (which
/// must be among those granted) and issues an access token.
pub async fn client_credentials(
    db: &Db,
    tokens: &Arc<TokenService>,
    client_id: String,
    secret: String,
    requested: Option<String>,
) -> Result<(AccessToken, BTreeSet<Scope>), GrantError> {
    let row = db
        .run(move |conn| {
            Ok(oauth_clients::table
                .filter(oauth_clients::client_id.eq(client_id))
                .select((
                    oauth_clients::client_id,
                    oauth_clients::secret_hash,
                    oauth_clients::scopes,
                    oauth_clients::disabled,
                ))
                .first::<(String, String, String, bool)>(conn)
                .optional()?)
        })
        .await?;
    let Some((client_id, secret_hash, scopes, disabled)) = row else {
        return Err(GrantError::InvalidClient);
    };
    if disabled || !secrets::constant_time_eq(&secrets::sha256_hex(&secret), &secret_hash) {
        return Err(GrantError::InvalidClient);
    }
    let granted: BTreeSet<Scope> = parse_scopes(&from_json::<Vec<String>>(&scopes)?)?;
    let scopes = match requested.as_deref().map(str::trim) {
        None | Some("") => granted,
        Some(list) => {
            let wanted =
                parse_scopes(&[list]).map_err(|e| GrantError::InvalidScope(e.to_string()))?;
            if let Some(extra) = wanted.iter().find(|s| !granted.contains(s)) {
                return Err(GrantError::InvalidScope(format!(
                    "scope {extra} was not granted to this client"
                )));
            }
            wanted
        }
    };
    let token = tokens.issue_for_client(&ClientPrincipal {
        client_id,
        scopes: scopes.clone(),
    })?;
    Ok((token, scopes))
}
