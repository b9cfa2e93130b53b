//! The real `alongside` binary: help texts, the committed schema, admin commands, and `serve`
//! answering `/readyz`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use alongside_core::db::testing::TestDatabase;

fn alongside() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_alongside"));
    // The test must not pick up the developer's own settings.
    for (key, _) in std::env::vars() {
        if key.starts_with("ALONGSIDE_") {
            cmd.env_remove(key);
        }
    }
    cmd
}

fn run(cmd: &mut Command) -> (bool, String, String) {
    let out = cmd.output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

/// `--data-dir` and `--database-url` for a fresh database of the suite's backend.
fn database_args(dir: &Path, db: &TestDatabase) -> Vec<String> {
    vec![
        "--data-dir".into(),
        dir.join("data").display().to_string(),
        "--database-url".into(),
        db.url.clone(),
    ]
}

/// A fresh database of the suite's backend, migrated by the binary, with the arguments that
/// point the binary at it and a connection to it.
fn migrated() -> (
    tempfile::TempDir,
    TestDatabase,
    Vec<String>,
    alongside_core::db::DbConnection,
) {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDatabase::create(dir.path()).unwrap();
    let args = database_args(dir.path(), &db);
    let (ok, _, stderr) = run(alongside().args(&args).arg("migrate"));
    assert!(ok, "{stderr}");
    let conn = alongside_core::db::establish(&db.url, 1000).unwrap();
    (dir, db, args, conn)
}

#[test]
fn every_command_has_help() {
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["migrate", "--help"],
        vec!["schema", "--help"],
        vec!["admin", "--help"],
        vec!["admin", "create-user", "--help"],
        vec!["admin", "create-client", "--help"],
        vec!["admin", "audit", "verify", "--help"],
        vec!["admin", "audit", "witness", "--help"],
        vec!["admin", "purge", "--help"],
    ] {
        let (ok, stdout, _) = run(alongside().args(&args));
        assert!(ok, "{args:?}");
        assert!(stdout.contains("Usage: alongside"), "{args:?}: {stdout}");
    }
    let (_, top, _) = run(alongside().arg("--help"));
    for word in [
        "serve",
        "migrate",
        "schema",
        "admin",
        "--config",
        "--data-dir",
        "--database-url",
    ] {
        assert!(top.contains(word), "top-level help lacks {word}");
    }
    let (_, serve, _) = run(alongside().args(["serve", "--help"]));
    assert!(serve.contains("--bind"));
    let (_, user, _) = run(alongside().args(["admin", "create-user", "--help"]));
    for word in ["--email", "--role", "standard input", "--generate-password"] {
        assert!(user.contains(word), "create-user help lacks {word}");
    }
    let (_, client, _) = run(alongside().args(["admin", "create-client", "--help"]));
    assert!(client.contains("--name") && client.contains("--scopes"));
}

#[test]
fn committed_schema_matches_the_code() {
    let (ok, sdl, _) = run(alongside().arg("schema"));
    assert!(ok);
    let committed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/schema.graphql"
    ))
    .unwrap();
    assert!(
        sdl == committed,
        "docs/schema.graphql is out of date: review the change, then run `cargo run -p alongside-api -- schema > docs/schema.graphql`"
    );
    let (ok, openapi, _) = run(alongside().args(["schema", "--openapi"]));
    assert!(ok);
    assert!(openapi.contains("\"openapi\": \"3.1"));
}

#[test]
fn admin_commands_create_accounts_and_clients() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDatabase::create(dir.path()).unwrap();
    let args = database_args(dir.path(), &db);

    let (ok, stdout, stderr) = run(alongside().args(&args).arg("migrate"));
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("Applied ") && stdout.contains("migration(s)"),
        "{stdout}"
    );
    let (_, stdout, _) = run(alongside().args(&args).arg("migrate"));
    assert!(stdout.contains("up to date"), "{stdout}");

    // Password piped on standard input: not echoed back.
    let mut child = alongside()
        .args(&args)
        .args([
            "admin",
            "create-user",
            "--email",
            "Chief@Hospital.test",
            "--role",
            "admin",
            "--role",
            "coordinator",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"a very long passphrase\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("roles: member, coordinator, admin"),
        "{stdout}"
    );
    assert!(!stdout.contains("a very long passphrase"));

    // Generated password, printed once.
    let (ok, stdout, _) = run(alongside().args(&args).args([
        "admin",
        "create-user",
        "--email",
        "p@hospital.test",
        "--role",
        "peer_supporter",
        "--generate-password",
    ]));
    assert!(ok);
    assert!(stdout.contains("Password (shown once"), "{stdout}");

    for (bad, why) in [
        (
            vec![
                "admin",
                "create-user",
                "--email",
                "x@hospital.test",
                "--role",
                "wizard",
                "--generate-password",
            ],
            "unknown role",
        ),
        (
            vec![
                "admin",
                "create-user",
                "--email",
                "p@hospital.test",
                "--role",
                "member",
                "--generate-password",
            ],
            "already exists",
        ),
        (
            vec![
                "admin",
                "create-user",
                "--email",
                "nope",
                "--role",
                "member",
                "--generate-password",
            ],
            "email",
        ),
        (
            vec!["admin", "create-client", "--name", "X", "--scopes", "root"],
            "unknown scope",
        ),
    ] {
        let (ok, _, stderr) = run(alongside().args(&args).args(&bad));
        assert!(!ok, "{bad:?}");
        assert!(stderr.contains(why), "{bad:?}: {stderr}");
    }

    let (ok, stdout, _) = run(alongside().args(&args).args([
        "admin",
        "create-client",
        "--name",
        "Intranet CMS",
        "--scopes",
        "programs:write",
    ]));
    assert!(ok);
    assert!(
        stdout.contains("client_id:     cl_") && stdout.contains("client_secret: "),
        "{stdout}"
    );
}

#[test]
fn bad_configuration_is_reported_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, _, stderr) =
        run(alongside().args(["--config", "/nonexistent/alongside.toml", "migrate"]));
    assert!(!ok);
    assert!(stderr.contains("does not exist"), "{stderr}");
    let file = dir.path().join("bad.toml");
    std::fs::write(&file, "bnid = \"x\"\n").unwrap();
    let (ok, _, stderr) = run(alongside().arg("--config").arg(&file).arg("migrate"));
    assert!(!ok);
    assert!(stderr.contains("bnid"), "{stderr}");
    std::fs::write(&file, "[metrics]\nsuppression_k = 1\n").unwrap();
    let (ok, _, stderr) = run(alongside().arg("--config").arg(&file).arg("migrate"));
    assert!(!ok);
    assert!(
        stderr.contains("suppression_k") && stderr.contains("at least 2"),
        "{stderr}"
    );
    let (ok, _, stderr) = run(alongside().args(["--database-url", "mysql://x/y", "migrate"]));
    assert!(!ok);
    assert!(stderr.contains("unsupported scheme"), "{stderr}");
    let (ok, _, stderr) = run(alongside().args([
        "--database-url",
        "postgres://nobody@127.0.0.1:1/none",
        "migrate",
    ]));
    assert!(!ok);
    assert!(stderr.contains("PostgreSQL"), "{stderr}");
}

fn get(addr: &str, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

#[test]
fn serve_starts_and_becomes_ready() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDatabase::create(dir.path()).unwrap();
    let mut child = alongside()
        .args(database_args(dir.path(), &db))
        .args(["serve", "--bind", "127.0.0.1:0"])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let started = Instant::now();
    let mut addr = None;
    let mut seen = String::new();
    while started.elapsed() < Duration::from_secs(60) {
        let Some(Ok(line)) = lines.next() else { break };
        seen.push_str(&line);
        seen.push('\n');
        if let Some(rest) = line.split("listening on http://").nth(1) {
            addr = rest.split_whitespace().next().map(str::to_owned);
        }
        if line.contains("create-user --email") {
            break;
        }
    }
    let addr = addr.unwrap_or_else(|| panic!("serve did not say where it listens:\n{seen}"));
    assert!(
        seen.contains("no accounts yet"),
        "first start explains how to create an admin:\n{seen}"
    );
    // To a PostgreSQL on this host over TCP, encrypted because nobody chose otherwise, serve
    // says how to reach it more cheaply; in every other case nothing about the transport.
    let noted = seen.contains(alongside_core::db::LOOPBACK_TLS_ADVICE);
    let pgsslmode = std::env::var("PGSSLMODE").ok();
    let expected = db.is_postgres()
        && alongside_core::db::tls_left_to_default_on_loopback(&db.url, pgsslmode.as_deref())
        && db.server_offers_tls().unwrap();
    assert_eq!(noted, expected, "the transport note:\n{seen}");
    let ready = get(&addr, "/readyz");
    assert!(ready.starts_with("HTTP/1.1 200"), "{ready}");
    assert!(ready.contains("\"status\":\"ready\""));
    // The key was created private.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("data/node-signing-key.pem"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        !seen.contains("PRIVATE KEY"),
        "the key must never be logged"
    );
}

#[test]
fn audit_verify_names_the_first_broken_entry_and_purge_runs() {
    use diesel::prelude::*;
    let (_dir, _db, args, mut conn) = migrated();
    for _ in 0..3 {
        alongside_core::audit::append(
            &mut conn,
            "account:test",
            "suspend",
            "account",
            uuid::Uuid::now_v7(),
        )
        .unwrap();
    }
    let (ok, stdout, stderr) = run(alongside().args(&args).args(["admin", "audit", "verify"]));
    assert!(ok, "{stderr}");
    assert!(stdout.contains("3 entries"), "{stdout}");

    {
        use alongside_core::schema::audit_log::dsl::*;
        diesel::update(audit_log.filter(seq.eq(2)))
            .set(action.eq("write"))
            .execute(&mut conn)
            .unwrap();
    }
    let (ok, _, stderr) = run(alongside().args(&args).args(["admin", "audit", "verify"]));
    assert!(!ok);
    assert!(stderr.contains("broken at entry 2"), "{stderr}");

    let (ok, stdout, stderr) = run(alongside()
        .args(&args)
        .args(["admin", "purge", "--days", "30"]));
    assert!(ok, "{stderr}");
    assert!(stdout.contains("Removed 0 ended case(s)"), "{stdout}");
}

/// Rewrites entry `from` (its action) of a chain and rebuilds every hash after it and the head,
/// as someone with write access to the database could.
macro_rules! rewrite_and_rebuild {
    ($log:ident, $head:ident, $conn:expr, $from:expr) => {{
        use alongside_core::schema::{$head, $log};
        use diesel::prelude::*;
        let conn: &mut alongside_core::db::DbConnection = $conn;
        // Lane 1: every entry of these tests, written one at a time.
        diesel::update($log::table.filter($log::lane.eq(1).and($log::seq.eq($from))))
            .set($log::action.eq("write"))
            .execute(conn)
            .unwrap();
        type Row = (i64, chrono::NaiveDateTime, String, String, String, String);
        let rows: Vec<Row> = $log::table
            .filter($log::lane.eq(1))
            .order($log::seq.asc())
            .select((
                $log::seq,
                $log::at,
                $log::actor,
                $log::action,
                $log::record_type,
                $log::record_id,
            ))
            .load(conn)
            .unwrap();
        let mut prev = "0".repeat(64);
        for (seq, at, actor, action, kind, id) in rows {
            let hash =
                alongside_core::audit::entry_hash(&prev, seq, at, &actor, &action, &kind, &id);
            diesel::update($log::table.filter($log::lane.eq(1).and($log::seq.eq(seq))))
                .set(($log::prev_hash.eq(&prev), $log::hash.eq(&hash)))
                .execute(conn)
                .unwrap();
            prev = hash;
        }
        diesel::update($head::table.filter($head::id.eq(1)))
            .set($head::hash.eq(&prev))
            .execute(conn)
            .unwrap();
    }};
}

#[test]
fn a_rebuilt_chain_does_not_pass_through_its_witnessed_heads() {
    let (dir, _db, args, mut conn) = migrated();
    // One entry in each chain: the main one and the one of entries about cases.
    let append = |conn: &mut alongside_core::db::DbConnection| {
        alongside_core::audit::append(
            conn,
            "account:test",
            "suspend",
            "account",
            uuid::Uuid::now_v7(),
        )
        .unwrap();
        alongside_core::audit::append(
            conn,
            "account:test",
            "read",
            "support_request",
            uuid::Uuid::now_v7(),
        )
        .unwrap()
    };
    // Heads witnessed after each of four entries; the key is rotated half way, so the
    // earlier heads are signed by a key the node no longer uses.
    for n in 0..4 {
        append(&mut conn);
        let (ok, stdout, stderr) = run(alongside().args(&args).args(["admin", "audit", "witness"]));
        assert!(ok, "{stderr}");
        assert!(
            stdout.contains(&format!(
                "at entry {} (and entry {} of the case",
                n + 1,
                n + 1
            )),
            "{stdout}"
        );
        if n == 1 {
            let (ok, _, stderr) = run(alongside().args(&args).args(["keys", "rotate"]));
            assert!(ok, "{stderr}");
        }
    }
    let witness = dir.path().join("data/audit-heads.jwt");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&witness).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let verify = || run(alongside().args(&args).args(["admin", "audit", "verify"]));
    let (ok, stdout, stderr) = verify();
    assert!(ok, "{stderr}");
    assert!(stdout.contains("all 8 witnessed heads"), "{stdout}");

    // Entry 2 of either chain rewritten, the chain rebuilt: it checks alone, not against the
    // witness. The case entries' chain first, as the main chain's break is reported first.
    rewrite_and_rebuild!(case_chain, case_chain_head, &mut conn, 2);
    let alone = alongside_core::audit::verify(&mut conn).unwrap();
    assert_eq!(alone.broken(), None, "the rebuilt chain checks by itself");
    let (ok, _, stderr) = verify();
    assert!(!ok);
    assert!(
        stderr.contains("broken at entry 2 of the chain of case entries")
            && stderr.contains("entry 2 was rewritten"),
        "{stderr}"
    );
    rewrite_and_rebuild!(audit_log, audit_head, &mut conn, 2);
    assert_eq!(
        alongside_core::audit::verify(&mut conn).unwrap().broken(),
        None
    );
    let (ok, _, stderr) = verify();
    assert!(!ok);
    assert!(
        stderr.contains("broken at entry 2 of the audit chain")
            && stderr.contains("entry 2 was rewritten"),
        "{stderr}"
    );

    // Entries cut off the end, the head moved back: the witnessed count shows it.
    let (_dir2, _db2, args2, mut conn2) = migrated();
    for _ in 0..3 {
        append(&mut conn2);
    }
    assert!(run(alongside().args(&args2).args(["admin", "audit", "witness"])).0);
    {
        use alongside_core::schema::{audit_head, audit_log};
        use diesel::prelude::*;
        let hash2: String = audit_log::table
            .filter(audit_log::seq.eq(2))
            .select(audit_log::hash)
            .first(&mut conn2)
            .unwrap();
        diesel::delete(audit_log::table.filter(audit_log::seq.eq(3)))
            .execute(&mut conn2)
            .unwrap();
        diesel::update(audit_head::table)
            .set((audit_head::seq.eq(2), audit_head::hash.eq(hash2)))
            .execute(&mut conn2)
            .unwrap();
    }
    let (ok, _, stderr) = run(alongside().args(&args2).args(["admin", "audit", "verify"]));
    assert!(!ok);
    assert!(
        stderr.contains("broken at entry 3") && stderr.contains("entries after it were removed"),
        "{stderr}"
    );

    // A witness line not signed by this node's keys proves nothing and is named.
    let forged = dir.path().join("forged.jwt");
    let other = alongside_core::tokens::NodeKey::generate().unwrap();
    let line = alongside_core::audit::witness::sign(
        &other,
        &(4, "0".repeat(64)),
        Some(&[(4, "0".repeat(64))][..]),
        chrono::Utc::now().naive_utc(),
    )
    .unwrap();
    std::fs::write(
        &forged,
        format!(
            "{}\n{line}\n",
            std::fs::read_to_string(&witness)
                .unwrap()
                .lines()
                .next()
                .unwrap()
        ),
    )
    .unwrap();
    let (ok, _, stderr) = run(alongside()
        .args(&args)
        .args(["admin", "audit", "verify", "--witness"])
        .arg(&forged));
    assert!(!ok);
    assert!(
        stderr.contains("line 2 of the witness file")
            && stderr.contains("not an audit head signed by this node"),
        "{stderr}"
    );
}

fn http(addr: &str, method: &str, path: &str, token: Option<&str>, body: &str) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\n{auth}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

/// Starts `serve` with extra environment, returning the child and its address.
fn serve(args: &[String], env: &[(&str, String)]) -> (std::process::Child, String) {
    let mut cmd = alongside();
    cmd.args(args)
        .args(["serve", "--bind", "127.0.0.1:0"])
        .stderr(Stdio::piped())
        .stdout(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let addr = loop {
        let line = lines.next().expect("serve exited").unwrap();
        if let Some(rest) = line.split("listening on http://").nth(1) {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    // Keep draining stderr so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, addr)
}

#[test]
fn messages_committed_before_a_sigkill_are_delivered_once_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDatabase::create(dir.path()).unwrap();
    let args = database_args(dir.path(), &db);
    let mail = dir.path().join("mail");
    let mut child = alongside()
        .args(&args)
        .args([
            "admin",
            "create-user",
            "--email",
            "coord@hospital.test",
            "--role",
            "coordinator",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"a very long passphrase\n")
        .unwrap();
    assert!(child.wait().unwrap().success());

    let mut env = vec![
        ("ALONGSIDE_EMAIL__TRANSPORT", "file".to_owned()),
        ("ALONGSIDE_EMAIL__FILE_DIR", mail.display().to_string()),
        // The first run delivers nothing, so the kill lands between commit and delivery.
        ("ALONGSIDE_OUTBOX__WORKER", "false".to_owned()),
        ("ALONGSIDE_OUTBOX__POLL_INTERVAL_MS", "50".to_owned()),
    ];
    let (mut first, addr) = serve(&args, &env);
    let login = http(
        &addr,
        "POST",
        "/api/v1/auth/login",
        None,
        r#"{"email":"coord@hospital.test","password":"a very long passphrase"}"#,
    );
    let token = login
        .split("\"access_token\":\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("token")
        .to_owned();
    let create = r#"{"query":"mutation { createEvent(input: {category: NEAR_MISS, month: \"2026-01\", involved: [{email: \"coord@hospital.test\", role: WITNESS}]}) { id } }"}"#;
    for _ in 0..3 {
        let response = http(&addr, "POST", "/graphql", Some(&token), create);
        assert!(response.contains("\"createEvent\""), "{response}");
    }
    // Committed, not delivered: kill -9.
    first.kill().unwrap();
    first.wait().unwrap();
    let delivered = |dir: &Path| std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0);
    assert_eq!(delivered(&mail), 0);

    env[2].1 = "true".to_owned();
    let (mut second, _) = serve(&args, &env);
    let started = Instant::now();
    while delivered(&mail) < 3 && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(1));
    second.kill().unwrap();
    second.wait().unwrap();
    assert_eq!(delivered(&mail), 3, "each message exactly once");
    let ids: std::collections::HashSet<String> = std::fs::read_dir(&mail)
        .unwrap()
        .map(|f| std::fs::read_to_string(f.unwrap().path()).unwrap())
        .map(|m| {
            m.lines()
                .find(|l| l.starts_with("Message-ID:"))
                .unwrap_or("")
                .to_owned()
        })
        .collect();
    assert_eq!(ids.len(), 3);
}

/// `admin backup` while the data is live, then a restore into an empty place: the data is there
/// (the same account cannot be created again) and the audit chain still checks.
#[test]
fn a_backup_restores_with_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDatabase::create(dir.path()).unwrap();
    let args = database_args(dir.path(), &db);
    let create = |args: &[String]| {
        run(alongside().args(args).args([
            "admin",
            "create-user",
            "--email",
            "kept@hospital.test",
            "--role",
            "admin",
            "--generate-password",
        ]))
    };
    let (ok, _, stderr) = create(&args);
    assert!(ok, "{stderr}");
    let file = dir.path().join("backup.bin");
    let (ok, stdout, stderr) = run(alongside()
        .args(&args)
        .args(["admin", "backup", "--to"])
        .arg(&file));
    assert!(ok, "{stderr}");
    assert!(stdout.contains("node-signing-key.pem"), "{stdout}");
    // What holds people's data is the service account's alone.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&file), 0o600, "the backup");
        let (ok, _, stderr) = run(alongside().args(&args).args(["keys", "generate"]));
        assert!(ok, "{stderr}");
        assert_eq!(mode(&dir.path().join("data")), 0o700, "the data directory");
        if !db.is_postgres() {
            let main = std::path::PathBuf::from(alongside_core::db::sqlite_path(&db.url));
            assert_eq!(mode(&main), 0o600, "the database");
            for suffix in ["-wal", "-shm"] {
                let side = std::path::PathBuf::from(format!("{}{suffix}", main.display()));
                if side.exists() {
                    assert_eq!(mode(&side), 0o600, "{}", side.display());
                }
            }
        }
    }
    let (ok, _, stderr) = run(alongside()
        .args(&args)
        .args(["admin", "backup", "--to"])
        .arg(&file));
    assert!(!ok && stderr.contains("exists already"), "{stderr}");

    // Restore into a new place.
    let restored_dir = tempfile::tempdir().unwrap();
    let restored = TestDatabase::create(restored_dir.path()).unwrap();
    if restored.is_postgres() {
        let status = Command::new("pg_restore")
            .args(["--no-owner", "--dbname"])
            .arg(&restored.url)
            .arg(&file)
            .status()
            .unwrap();
        assert!(status.success());
    } else {
        std::fs::copy(&file, alongside_core::db::sqlite_path(&restored.url)).unwrap();
    }
    let args = database_args(restored_dir.path(), &restored);
    let (ok, _, stderr) = create(&args);
    assert!(!ok, "the account came back with the restore");
    assert!(stderr.contains("already"), "{stderr}");
    let (ok, stdout, stderr) = run(alongside().args(&args).args(["admin", "audit", "verify"]));
    assert!(ok, "{stderr}");
    assert!(stdout.contains("Audit log intact"), "{stdout}");
}

/// `ALONGSIDE_LOG` and `ALONGSIDE_CONFIG` are read by the CLI and the logger, not taken for
/// settings (an unknown setting is an error).
#[test]
fn log_and_config_variables_are_not_settings() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("alongside.toml");
    std::fs::write(&file, "log_format = \"json\"\n").unwrap();
    let (ok, stdout, stderr) = run(alongside()
        .env("ALONGSIDE_LOG", "warn")
        .env("ALONGSIDE_CONFIG", &file)
        .args(["--data-dir"])
        .arg(dir.path().join("data"))
        .arg("migrate"));
    assert!(ok, "{stderr}");
    assert!(stdout.contains("migration"), "{stdout}");
}

/// A port with the next two free as well, for the demo's three nodes.
fn three_free_ports() -> u16 {
    for _ in 0..50 {
        let base = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        if base > 65000 {
            continue;
        }
        if (0..3).all(|i| std::net::TcpListener::bind(("127.0.0.1", base + i)).is_ok()) {
            return base;
        }
    }
    panic!("no three consecutive free ports");
}

#[test]
fn the_demo_keeps_its_terminal_for_instructions_and_stops_on_sigterm() {
    // Other tests run beside this one and may take a port between the check and the demo's
    // bind; that (and only that) is tried again on other ports.
    let mut attempt = 0;
    let (dir, mut child, printed) = loop {
        attempt += 1;
        let dir = tempfile::tempdir().unwrap();
        let base = three_free_ports();
        let mut child = alongside()
            .args(["demo", "--port-base", &base.to_string(), "--dir"])
            .arg(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut printed = String::new();
        let started = Instant::now();
        let mut exited = false;
        while !printed.contains("The nodes' log:") {
            assert!(started.elapsed() < Duration::from_secs(60), "{printed}");
            let mut line = String::new();
            if stdout.read_line(&mut line).unwrap() == 0 {
                exited = true;
                break;
            }
            printed.push_str(&line);
        }
        if !exited {
            break (dir, child, printed);
        }
        let mut stderr = String::new();
        let _ = child.stderr.take().unwrap().read_to_string(&mut stderr);
        let _ = child.wait();
        assert!(
            attempt < 3 && stderr.contains("choose other ports"),
            "the demo exited early: {printed}{stderr}"
        );
    };
    assert!(
        !printed.contains('\u{1b}'),
        "no colour codes into a pipe: {printed}"
    );
    assert!(printed.contains("/demo/as/"), "persona links: {printed}");
    assert!(
        !printed.contains(" INFO "),
        "no log lines among the instructions"
    );
    let log = std::fs::read_to_string(dir.path().join("demo.log")).unwrap();
    assert!(log.contains("INFO"), "the nodes log to demo.log: {log}");
    assert!(!log.contains('\u{1b}'));
    // A persona link signs a browser in; on a node outside the demo it would be refused.
    let link = printed
        .split_whitespace()
        .find(|w| w.contains("/demo/as/"))
        .unwrap()
        .trim_start_matches("http://")
        .to_owned();
    let (addr, path) = link.split_at(link.find('/').unwrap());
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 303"), "{answer}");
    assert!(
        answer.to_lowercase().contains("set-cookie: alongside="),
        "{answer}"
    );

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(
                status.success(),
                "the demo exits cleanly on SIGTERM: {status}"
            );
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the demo was still running 20 s after SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The operator's federation commands go through the same door as the API: a steward starts,
/// reports itself, refuses to join another federation, names an unknown member clearly, and a
/// key rotation issues a transition manifest.
#[test]
fn federation_commands_run_through_the_federation_door() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDatabase::create(dir.path()).unwrap();
    let args = database_args(dir.path(), &db);

    let (ok, stdout, stderr) = run(alongside().args(&args).args(["federation", "status"]));
    assert!(ok, "{stderr}");
    assert!(stdout.contains("is not in a federation"), "{stdout}");

    let (ok, stdout, stderr) = run(alongside().args(&args).args(["federation", "init-steward"]));
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("is now the steward") && stdout.contains("manifest serial 1"),
        "{stdout}"
    );
    assert!(stdout.contains("--steward-key"), "{stdout}");

    let (ok, stdout, stderr) = run(alongside().args(&args).args(["federation", "status"]));
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("mode: steward") && stdout.contains("manifest: serial 1"),
        "{stdout}"
    );

    let (ok, _, stderr) = run(alongside().args(&args).args([
        "federation",
        "request-join",
        "--steward",
        "http://127.0.0.1:9",
    ]));
    assert!(!ok);
    assert!(
        stderr.contains("a member runs on a node of its own"),
        "{stderr}"
    );

    let (ok, _, stderr) =
        run(alongside()
            .args(&args)
            .args(["federation", "approve", "nobody.test"]));
    assert!(!ok);
    assert!(
        stderr.contains("nobody.test has not asked to join"),
        "{stderr}"
    );

    let (ok, stdout, stderr) = run(alongside().args(&args).args(["keys", "rotate"]));
    assert!(ok, "{stderr}");
    assert!(stdout.contains("Issued manifest serial 2"), "{stdout}");
}

/// The case chain's head is signed at most once a day, so the witness file cannot date entries
/// about cases finer than a day (the chain itself says only their month); the main chain's head
/// is signed every round it moved.
#[test]
fn the_case_chains_head_is_witnessed_once_a_day() {
    use alongside_core::audit::{self, Chain, witness};
    let (dir, _db, _args, mut conn) = migrated();
    let key = alongside_core::tokens::NodeKey::generate().unwrap();
    let keys = [(key.kid().to_owned(), key.public_key_bytes())];
    let file = dir.path().join("heads.jwt");
    let both = |conn: &mut alongside_core::db::DbConnection| {
        audit::append(
            conn,
            "account:a",
            "suspend",
            "account",
            uuid::Uuid::now_v7(),
        )
        .unwrap();
        audit::append(
            conn,
            "account:a",
            "read",
            "support_request",
            uuid::Uuid::now_v7(),
        )
        .unwrap();
    };
    let morning = chrono::NaiveDate::from_ymd_opt(2026, 12, 1)
        .unwrap()
        .and_hms_opt(3, 10, 0)
        .unwrap();
    both(&mut conn);
    let first = witness::witness(&mut conn, &key, &file, None, morning).unwrap();
    both(&mut conn);
    let later = morning + chrono::Duration::minutes(1);
    let second = witness::witness(&mut conn, &key, &file, Some(&first), later).unwrap();
    let tomorrow = morning + chrono::Duration::days(1);
    let third = witness::witness(&mut conn, &key, &file, Some(&second), tomorrow).unwrap();
    // Nothing moved: no line.
    let fourth = witness::witness(&mut conn, &key, &file, Some(&third), tomorrow).unwrap();
    assert_eq!(fourth, third);

    let heads = witness::read(&file, &keys).unwrap();
    let of = |chain: Chain| -> Vec<(i64, chrono::NaiveDateTime)> {
        heads
            .iter()
            .filter(|h| h.chain == chain)
            .map(|h| (h.seq, h.at))
            .collect()
    };
    assert_eq!(of(Chain::Main), [(1, morning), (2, later), (2, tomorrow)]);
    assert_eq!(
        of(Chain::Case),
        [(1, morning), (2, tomorrow)],
        "the minute's growth of the case chain is not dated"
    );
    assert_eq!(
        second.heads.case_entries(),
        1,
        "what the witness holds, not the chain"
    );
    assert_eq!(third.heads.case_entries(), 2);
    // And the chains check against every head.
    let report = audit::verify_against(&mut conn, &heads).unwrap();
    assert_eq!(report.broken(), None);
    assert_eq!((report.main.entries, report.case.entries), (2, 2));
}

/// Who holds each job lease, and its heartbeat, read from the node's database.
fn leases(
    conn: &mut alongside_core::db::DbConnection,
) -> Vec<(String, String, Option<chrono::NaiveDateTime>)> {
    alongside_core::notify::leases::holders(conn).unwrap()
}

fn wait_until(what: &str, mut check: impl FnMut() -> bool) {
    let started = Instant::now();
    while !check() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A graceful stop releases the scheduler's leases, so the next start runs its start-up jobs at
/// once; after a crash, the next start takes over the leases of the process whose heartbeat
/// stopped, without waiting for them to run out.
#[test]
fn serve_releases_its_leases_on_sigterm_and_takes_over_a_dead_holders_at_once() {
    let (_dir, _db, args, mut conn) = migrated();
    let holder_of = |conn: &mut _, job: &str| {
        leases(conn)
            .into_iter()
            .find(|(name, _, _)| name == job)
            .map(|(_, holder, _)| holder)
    };
    let (first, _) = serve(&args, &[]);
    wait_until("the scheduler's lease", || {
        holder_of(&mut conn, "scheduler").is_some()
    });
    let held = leases(&mut conn);
    assert!(held.iter().all(|(_, _, beat)| beat.is_some()), "{held:?}");
    let first_holder = holder_of(&mut conn, "scheduler").unwrap();

    let term = Command::new("kill")
        .args(["-TERM", &first.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let mut first = first;
    let exit = first.wait().unwrap();
    assert!(exit.success(), "{exit:?}");
    assert_eq!(leases(&mut conn), vec![], "released on a graceful stop");

    let (mut second, _) = serve(&args, &[]);
    wait_until("the next start to take the scheduler", || {
        holder_of(&mut conn, "scheduler").is_some_and(|h| h != first_holder)
    });
    let second_holder = holder_of(&mut conn, "scheduler").unwrap();
    // A crash: nothing is released, and the heartbeat stops. Forty seconds later (set back
    // here rather than waited for), the leases still run for a while, but their holder is gone.
    second.kill().unwrap();
    second.wait().unwrap();
    {
        use alongside_core::schema::job_leases;
        use diesel::prelude::*;
        let then = alongside_core::time::now() - chrono::Duration::seconds(40);
        diesel::update(job_leases::table)
            .set(job_leases::heartbeat_at.eq(then))
            .execute(&mut conn)
            .unwrap();
        let still: i64 = job_leases::table
            .filter(job_leases::expires_at.gt(alongside_core::time::now()))
            .count()
            .get_result(&mut conn)
            .unwrap();
        assert!(still > 0, "the dead holder's leases have not run out");
    }
    let (mut third, _) = serve(&args, &[]);
    wait_until("the dead holder's lease to be taken over", || {
        holder_of(&mut conn, "scheduler").is_some_and(|h| h != second_holder)
    });
    third.kill().unwrap();
    third.wait().unwrap();
}

/// A reader that stops reading (`alongside federation status | head -1`) ends the output
/// quietly: no panic, no "Broken pipe" message.
#[test]
fn a_closed_pipe_ends_the_output_quietly() {
    let (_dir, _db, args, _conn) = migrated();
    let (ok, _, stderr) = run(alongside().args(&args).args(["federation", "init-steward"]));
    assert!(ok, "{stderr}");
    let mut child = alongside()
        .args(&args)
        .args(["federation", "status"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The reading end closes before the command prints anything.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("Broken pipe"), "{stderr}");
}
