//! The `alongside` command line.

use std::path::PathBuf;

use alongside_api::config::{Config, Overrides};
use alongside_api::{cli, graphql, http, node, telemetry};
use alongside_core::institution;
use alongside_core::vocab::MemberStatus;
use anyhow::Context;
use clap::{Args, Parser, Subcommand};

/// Alongside: support for clinicians and staff after adverse medical events.
///
/// Each hospital runs a node. `alongside serve` runs one on embedded SQLite in ./alongside-data
/// by default; set a postgres:// database URL for production.
#[derive(Parser)]
#[command(name = "alongside", version, propagate_version = true)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args)]
struct Global {
    /// TOML configuration file (its settings lose to ALONGSIDE_* variables and to flags).
    #[arg(long, global = true, value_name = "FILE", env = "ALONGSIDE_CONFIG")]
    config: Option<PathBuf>,
    /// Directory for the signing key and the default SQLite database [default: alongside-data].
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Database: sqlite://PATH or postgres://USER@HOST/DB [default: SQLite in the data directory].
    #[arg(long, global = true, value_name = "URL")]
    database_url: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the node: GraphQL at /graphql, REST at /api/v1, health at /healthz and /readyz.
    Serve(ServeArgs),
    /// Apply pending database migrations, then exit.
    Migrate,
    /// Print the GraphQL schema (SDL), or the REST OpenAPI document with --openapi.
    Schema {
        /// Print the OpenAPI 3.1 document of the REST API instead.
        #[arg(long)]
        openapi: bool,
    },
    /// Administer accounts and partner clients.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// The node's signing keys: generate, rotate (the old key stays published), list.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Federation membership: start one as steward, ask to join, approve or suspend members.
    #[command(subcommand)]
    Federation(FederationCommand),
    /// Start a steward and two hospitals on local ports with sample data, federated, and print
    /// what to try. Nothing to configure; Ctrl-C stops it.
    Demo {
        /// The steward's port; the hospitals take the next two.
        #[arg(long, default_value_t = 7800)]
        port_base: u16,
        /// Where the three nodes keep their data [default: a new temporary directory].
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Create the node's signing key if it has none.
    Generate,
    /// Replace the signing key; the old public key stays published for --grace-hours.
    Rotate {
        #[arg(long, default_value_t = alongside_core::keyring::DEFAULT_GRACE_HOURS)]
        grace_hours: i64,
    },
    /// List the current key and the retired keys still published.
    List,
}

#[derive(Subcommand)]
enum FederationCommand {
    /// Make this node the steward of a new federation and issue its first manifest.
    InitSteward,
    /// Ask a steward to admit this node (set node.id and public_url first).
    RequestJoin {
        /// The steward's base URL, e.g. https://steward.example.org
        #[arg(long, value_name = "URL")]
        steward: String,
        /// The steward's key id, given to you out of band; the join is refused if it differs.
        #[arg(long, value_name = "KID")]
        steward_key: Option<String>,
    },
    /// On the steward: admit a node that asked to join.
    Approve {
        /// The node id, as in `federation status`.
        node: String,
    },
    /// On the steward: suspend a member; others refuse its calls after their next manifest refresh.
    Suspend { node: String },
    /// Show membership, the manifest held or issued, members and directory sync state; exits
    /// non-zero when the federation has a problem (named, with what to do).
    Status,
    /// On a member stranded by a steward key rotation (status says MANIFEST_UNTRUSTED_SIGNER and
    /// no bridge was left): pin the steward's current key, checked with the steward out of band.
    Repin {
        /// The steward's current key id, as its operator reads it from `alongside keys list`.
        #[arg(long, value_name = "KID")]
        steward_key: String,
    },
}

#[derive(Args)]
struct ServeArgs {
    /// Address to listen on, e.g. 127.0.0.1:8080 or 0.0.0.0:8080 [default: 127.0.0.1:8080].
    #[arg(long, value_name = "ADDR")]
    bind: Option<String>,
    /// Do not apply pending migrations at start-up.
    #[arg(long)]
    no_migrate: bool,
    /// Development mode: GraphiQL at /graphiql and field suggestions in errors.
    #[arg(long)]
    development: bool,
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create a person with a password account.
    ///
    /// The password is read from standard input when it is piped in; otherwise (or with
    /// --generate-password) one is generated and printed once.
    CreateUser {
        /// Sign-in email.
        #[arg(long)]
        email: String,
        /// Role beyond member; repeat for several: member, peer_supporter, coordinator, admin,
        /// analyst.
        #[arg(long = "role", value_name = "ROLE", required = true)]
        roles: Vec<String>,
        /// Name shown to colleagues [default: the part of the email before @].
        #[arg(long)]
        name: Option<String>,
        /// physician, nurse, pharmacist, allied_health, trainee, administrator, support_staff, other.
        #[arg(long, default_value = "other")]
        profession: String,
        /// Generate a password and print it once, even if standard input is piped.
        #[arg(long)]
        generate_password: bool,
    },
    /// Inspect the notification outbox and re-queue dead-lettered messages.
    #[command(subcommand)]
    Outbox(OutboxCommand),
    /// Check the audit log's hash chain; names the first broken entry.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Remove identifiable data of cases that ended more than --days ago (also runs hourly in
    /// `serve`), keeping de-identified counts.
    Purge {
        /// Days after a case ends [default: maintenance.retention_days, 90].
        #[arg(long)]
        days: Option<u32>,
    },
    /// Write a consistent copy of the database to --to while the node runs: SQLite with
    /// `VACUUM INTO`, PostgreSQL with `pg_dump --format=custom`. Back up the data directory's
    /// key files (node-signing-key.pem, retired-keys.json) too. See docs/operations.md.
    Backup {
        /// The file to write; it must not exist yet.
        #[arg(long, value_name = "FILE")]
        to: PathBuf,
    },
    /// Register a partner application (OAuth2 client credentials); prints its id and secret once.
    CreateClient {
        /// A name that says whose application it is.
        #[arg(long)]
        name: String,
        /// Scopes to grant, e.g. programs:write.
        #[arg(long, num_args = 1.., required = true, value_name = "SCOPE")]
        scopes: Vec<String>,
    },
    /// Bring the staff roster from a CSV file (for hospitals without SCIM). Columns: staff_id
    /// and name (required); email, phone, pager, department, profession or title, language,
    /// active. Matched by staff id, so running a file twice changes nothing; a file with any
    /// rejected row changes nothing, and every such row is listed with its line and reason.
    ImportStaff {
        /// The CSV file, with a header row.
        #[arg(value_name = "FILE.csv")]
        file: PathBuf,
        /// Check the file and say what would change, changing nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Subcommand)]
enum OutboxCommand {
    /// List queued messages (newest first), or only dead-lettered ones with --dead.
    List {
        #[arg(long)]
        dead: bool,
    },
    /// Put a dead-lettered message back in the queue.
    Requeue {
        /// The message id from `outbox list`.
        id: String,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Walk the whole chain; exit 1 and name the first broken entry if any was altered or removed.
    /// The chain must also pass through every head in the witness files (a rebuilt chain does
    /// not).
    Verify {
        /// A file of witnessed heads, e.g. the copy shipped off this machine; may be repeated
        /// [default: maintenance.audit_witness_file, if it exists].
        #[arg(long, value_name = "FILE")]
        witness: Vec<PathBuf>,
    },
    /// Sign the chain's head now and append it to maintenance.audit_witness_file (`serve` does
    /// this every maintenance round when the head has moved).
    Witness,
}

fn load_config(global: &Global, extra: Overrides) -> anyhow::Result<Config> {
    let overrides = Overrides {
        data_dir: global.data_dir.clone(),
        database_url: global.database_url.clone(),
        ..extra
    };
    Ok(Config::load(global.config.as_deref(), &overrides)?)
}

/// A reader that closes the pipe early (`alongside federation status | head -3`) ends the
/// output quietly, as other command-line tools do, rather than with a panic.
fn quiet_on_closed_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if message.starts_with("failed printing to std") && message.contains("Broken pipe") {
            std::process::exit(0);
        }
        default(info);
    }));
}

fn main() -> anyhow::Result<()> {
    quiet_on_closed_pipe();
    let cli = Cli::parse();
    match cli.command {
        Command::Schema { openapi } => {
            if openapi {
                println!("{}", http::openapi::json());
            } else {
                print!("{}", graphql::sdl());
            }
            Ok(())
        }
        Command::Serve(args) => {
            let config = load_config(
                &cli.global,
                Overrides {
                    bind: args.bind,
                    migrate_on_start: args.no_migrate.then_some(false),
                    development: args.development.then_some(true),
                    ..Overrides::default()
                },
            )?;
            let telemetry = telemetry::init(&config.log_format, &config.otlp());
            let served = serve(config);
            telemetry.shutdown();
            served
        }
        Command::Migrate => {
            let config = load_config(&cli.global, Overrides::default())?;
            let db = node::open_database(&config)?;
            let report = node::migrate(&db)?;
            if report.applied.is_empty() {
                println!("The {} database is up to date.", db.backend().name());
            } else {
                println!(
                    "Applied {} migration(s) to the {} database:",
                    report.applied.len(),
                    db.backend().name()
                );
                for version in report.applied {
                    println!("  {version}");
                }
            }
            Ok(())
        }
        Command::Admin(cmd) => {
            let config = load_config(&cli.global, Overrides::default())?;
            admin(config, cmd)
        }
        Command::Demo { port_base, dir } => {
            // The nodes' logs go to a file in the demo's directory, so the terminal keeps the
            // instructions.
            let dir = alongside_api::demo::directory(dir)?;
            let log = dir.join("demo.log");
            telemetry::init_to_file(&log)
                .with_context(|| format!("cannot write the demo's log to {}", log.display()))?;
            alongside_api::demo::run(alongside_api::demo::DemoOptions {
                port_base,
                dir: Some(dir),
            })
        }
        Command::Keys(cmd) => {
            let config = load_config(&cli.global, Overrides::default())?;
            match cmd {
                KeysCommand::Generate => cli::federation::keys_generate(&config),
                KeysCommand::Rotate { grace_hours } => {
                    cli::federation::keys_rotate(&config, grace_hours)
                }
                KeysCommand::List => cli::federation::keys_list(&config),
            }
        }
        Command::Federation(cmd) => {
            let config = load_config(&cli.global, Overrides::default())?;
            match cmd {
                FederationCommand::InitSteward => cli::federation::init_steward(&config),
                FederationCommand::RequestJoin {
                    steward,
                    steward_key,
                } => cli::federation::request_join(&config, &steward, steward_key.as_deref()),
                FederationCommand::Approve { node } => {
                    cli::federation::set_status(&config, &node, MemberStatus::Active)
                }
                FederationCommand::Suspend { node } => {
                    cli::federation::set_status(&config, &node, MemberStatus::Suspended)
                }
                FederationCommand::Status => cli::federation::status(&config),
                FederationCommand::Repin { steward_key } => {
                    cli::federation::repin(&config, &steward_key)
                }
            }
        }
    }
}

fn serve(config: Config) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        // Listening from the first moment: a stop that comes during start-up is graceful too.
        use tokio::signal::unix::{SignalKind, signal};
        let mut terminate = signal(SignalKind::terminate())?;
        let mut interrupt = signal(SignalKind::interrupt())?;
        let database = config.database_url();
        let running = node::start(config)?;
        let handle = running.server.handle();
        tokio::spawn(async move {
            tokio::select! {
                _ = terminate.recv() => {}
                _ = interrupt.recv() => {}
            }
            handle.stop(true).await;
        });
        let (stop, stopping) = tokio::sync::watch::channel(false);
        let maintenance = tokio::spawn(alongside_api::maintenance::run(running.state.clone()));
        let federation = tokio::spawn(alongside_api::maintenance::run_federation(
            running.state.clone(),
        ));
        let heartbeat = tokio::spawn(alongside_api::maintenance::heartbeat(running.state.clone()));
        let worker = running.state.config.outbox.worker.then(|| {
            tokio::spawn(alongside_api::delivery::run_until(
                running.state.clone(),
                stopping,
            ))
        });
        let backend = running.state.db.backend().name();
        eprintln!(
            "Alongside node listening on http://{} ({backend} database)",
            running.addr
        );
        if backend == "sqlite" {
            eprintln!("  database: {}", alongside_core::db::sqlite_path(&database));
        }
        // Said, not changed: the transport is the operator's to choose (docs/operations.md).
        if let Ok(Some(advice)) =
            alongside_core::db::loopback_tls_advice(&running.state.db, &database).await
        {
            eprintln!("  note: {advice}");
        }
        eprintln!(
            "  GraphQL: POST http://{}/graphql   REST: http://{}/api/v1",
            running.addr, running.addr
        );
        // Never a silent drop: say at start what the node cannot deliver.
        if let Ok(reasons) = alongside_api::node::degraded(&running.state).await {
            for r in reasons {
                tracing::warn!(code = r.code, "degraded: {}", r.detail);
            }
        }
        if !running.has_accounts {
            eprintln!();
            eprintln!("This node has no accounts yet. Create the first admin with:");
            eprintln!("  alongside admin create-user --email you@hospital.org --role admin");
            eprintln!("(pass the same --data-dir/--database-url/--config as serve)");
        }
        // On SIGTERM or Ctrl-C the server stops accepting and lets requests in flight finish
        // (up to 10 s); then the outbox worker finishes the batch in hand (up to 30 s). The
        // scheduler's jobs are leased and idempotent, so stopping them between rounds is safe;
        // their leases are released so the next start runs its start-up jobs at once.
        let served = running.server.await.context("server stopped with an error");
        let _ = stop.send(true);
        if let Some(worker) = worker
            && tokio::time::timeout(std::time::Duration::from_secs(30), worker)
                .await
                .is_err()
        {
            eprintln!("the outbox worker did not finish its batch in 30 s; its rows are retried after their lease");
        }
        maintenance.abort();
        federation.abort();
        heartbeat.abort();
        alongside_api::maintenance::release_leases(&running.state).await;
        eprintln!("Alongside node stopped.");
        served
    })
}

fn admin(config: Config, cmd: AdminCommand) -> anyhow::Result<()> {
    let db = node::open_database(&config)?;
    node::migrate(&db)?;
    let mut conn = db.get()?;
    institution::ensure(
        &mut conn,
        &institution::InstitutionDefaults {
            name: config.node.institution_name.clone(),
            node_id: config.node.id.clone(),
            jurisdiction: config.node.jurisdiction.clone(),
            crisis_resources: config.node.crisis_resources.clone(),
        },
    )?;
    match cmd {
        AdminCommand::CreateUser {
            email,
            roles,
            name,
            profession,
            generate_password,
        } => cli::create_user::run(&mut conn, email, roles, name, profession, generate_password),
        AdminCommand::Outbox(OutboxCommand::List { dead }) => cli::outbox::list(&mut conn, dead),
        AdminCommand::Outbox(OutboxCommand::Requeue { id }) => cli::outbox::requeue(&mut conn, id),
        AdminCommand::Audit(AuditCommand::Verify { witness }) => {
            cli::audit::verify(&config, &mut conn, witness)
        }
        AdminCommand::Audit(AuditCommand::Witness) => cli::audit::witness(&config, &mut conn),
        AdminCommand::Purge { days } => {
            drop(conn);
            cli::purge::run(&config, &db, days)
        }
        AdminCommand::Backup { to } => {
            drop(conn);
            cli::backup::run(&config, &db, to)
        }
        AdminCommand::ImportStaff { file, dry_run } => {
            cli::import_staff::run(&mut conn, file, dry_run)
        }
        AdminCommand::CreateClient { name, scopes } => {
            cli::create_client::run(&mut conn, name, scopes)
        }
    }
}
