//! `alongside admin create-client`: a partner app's client id and secret, with its scopes.

use alongside_core::clients;
use alongside_core::db::DbConnection;

pub fn run(conn: &mut DbConnection, name: String, scopes: Vec<String>) -> anyhow::Result<()> {
    let scopes = clients::parse_scopes(&scopes)?;
    let created = clients::create(conn, &name, scopes)?;
    let names: Vec<&str> = created.client.scopes.iter().map(|s| s.as_str()).collect();
    println!(
        "Created partner client {:?} with scopes: {}",
        created.client.name,
        names.join(" ")
    );
    println!("client_id:     {}", created.client.client_id);
    println!(
        "client_secret: {}   (shown once, store it safely)",
        created.secret
    );
    println!("Get a token: POST /oauth/token with grant_type=client_credentials");
    Ok(())
}
