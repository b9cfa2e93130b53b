//! `alongside admin create-user`: a person with a password account.

use std::collections::BTreeSet;
use std::io::{IsTerminal, Read};

use alongside_core::access::Role;
use alongside_core::accounts::{self, NewUser};
use alongside_core::db::DbConnection;
use alongside_core::secrets;
use alongside_core::vocab::Profession;
use anyhow::{Context, bail};

pub fn run(
    conn: &mut DbConnection,
    email: String,
    roles: Vec<String>,
    name: Option<String>,
    profession: String,
    generate_password: bool,
) -> anyhow::Result<()> {
    let mut role_set: BTreeSet<Role> = roles.iter().map(|r| r.parse()).collect::<Result<_, _>>()?;
    role_set.insert(Role::Member);
    let profession: Profession = profession.parse()?;
    let display_name = name.unwrap_or_else(|| email.split('@').next().unwrap_or("").to_owned());
    let (password, generated) = read_password(generate_password)?;
    let (account, _person) = accounts::create_user_unchecked(
        conn,
        NewUser {
            email: email.clone(),
            display_name,
            profession,
            roles: role_set.clone(),
            password: password.clone(),
        },
    )?;
    let names: Vec<&str> = role_set.iter().map(|r| r.as_str()).collect();
    println!(
        "Created account {} for {email} with roles: {}",
        account.id,
        names.join(", ")
    );
    if generated {
        println!("Password (shown once, store it safely): {password}");
    }
    Ok(())
}

fn read_password(generate: bool) -> anyhow::Result<(String, bool)> {
    let stdin = std::io::stdin();
    if generate || stdin.is_terminal() {
        return Ok((secrets::generate_password()?, true));
    }
    let mut text = String::new();
    stdin
        .lock()
        .read_to_string(&mut text)
        .context("cannot read the password from standard input")?;
    let password = text.trim_end_matches(['\r', '\n']).to_owned();
    if password.is_empty() {
        bail!("standard input was empty: pipe in a password, or pass --generate-password");
    }
    Ok((password, false))
}
