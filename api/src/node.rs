//! Opening a node: configuration → database, migrations, signing key, token service, schema;
//! then the HTTP server on its listener.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use alongside_core::db::{self, Backend, Db, DbSettings, MigrationReport};
use alongside_core::institution::{self, InstitutionDefaults};
use alongside_core::tokens::{NodeKey, TokenService, TokenSettings};
use anyhow::Context as _;

use alongside_federation::{Federation, FederationSettings};

use crate::auth::OidcVerifier;
use crate::config::Config;
use crate::graphql::{self, AppSchema};
use crate::http;

/// Everything a request handler needs. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: Db,
    pub tokens: Arc<TokenService>,
    pub oidc: Option<Arc<OidcVerifier>>,
    pub schema: AppSchema,
    pub federation: Arc<Federation>,
    pub guard: Arc<crate::http::guard::Guard>,
    pub metrics: Arc<crate::observe::Metrics>,
    /// The persisted-query allow-list (hash → document), when configured.
    pub persisted: Option<Arc<std::collections::HashMap<String, String>>>,
    /// Single sign-on for the pages, when the identity provider gave this node a client id.
    pub sso: Option<Arc<crate::sso::Sso>>,
    /// The words of pages and emails: the shipped catalogue, with the institution's own wording
    /// laid over it when `node.wording_dir` is set.
    pub catalogue: &'static alongside_core::i18n::Catalogue,
    /// The demo's persona sign-in links; `None` outside `alongside demo`.
    pub personas: Option<Arc<crate::pages::demo::Personas>>,
    /// This process among the node's replicas: the holder of the job leases it takes.
    pub replica: Arc<str>,
}

/// Opens the configured database, creating the data directory for a default SQLite file.
pub fn open_database(config: &Config) -> anyhow::Result<Db> {
    let url = config.database_url();
    if Backend::from_url(&url)? == Backend::Sqlite {
        let path = std::path::Path::new(db::sqlite_path(&url));
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            crate::files::private_dir(parent)?;
        }
        if !url.contains(":memory:") && !url.contains("mode=memory") {
            crate::files::private_file(path)?;
        }
    }
    let settings = DbSettings {
        url,
        pool_size: config.database.pool_size,
        busy_timeout_ms: config.database.busy_timeout_ms,
        sqlite_cache_kib: config.database.sqlite_cache_kib,
        // Only a database that is down makes a caller wait this long (a slot guarantees a free
        // connection otherwise), and then one caller at a time: see the breaker in core's pool.
        connect_timeout: Duration::from_secs(3),
        queue_timeout: Duration::from_millis(config.database.queue_timeout_ms),
    };
    Ok(Db::connect(&settings)?)
}

pub fn migrate(db: &Db) -> anyhow::Result<MigrationReport> {
    let mut conn = db.get()?;
    Ok(db::run_migrations(&mut conn)?)
}

/// Builds the application state. `issuer` is the public URL, known only once bound.
pub fn prepare(config: Config, issuer: String) -> anyhow::Result<(AppState, bool)> {
    crate::files::private_dir(&config.data_dir)?;
    let db = open_database(&config)?;
    if config.migrate_on_start {
        let report = migrate(&db)?;
        if !report.applied.is_empty() {
            tracing::info!(count = report.applied.len(), "applied database migrations");
        }
    }
    {
        let mut conn = db.get()?;
        institution::ensure(
            &mut conn,
            &InstitutionDefaults {
                name: config.node.institution_name.clone(),
                node_id: config.node.id.clone(),
                jurisdiction: config.node.jurisdiction.clone(),
                crisis_resources: config.node.crisis_resources.clone(),
            },
        )
        .context("the database is not ready (run `alongside migrate`?)")?;
        alongside_core::resources::ensure_built_ins(&mut conn)?;
    }
    // Before the node serves: the first requests find their statements planned.
    let warmed = db.warm()?;
    if warmed > 0 {
        tracing::debug!(connections = warmed, "database connections warmed");
    }
    let tokens = Arc::new(token_service(&config, &issuer)?);
    let federation = Arc::new(federation_service(&config, &db, tokens.clone(), &issuer)?);
    let oidc = config
        .oidc
        .as_ref()
        .map(OidcVerifier::from_config)
        .transpose()?
        .map(Arc::new);
    let schema = graphql::build_schema(
        &config.limits,
        config.development,
        Some(db.clone()),
        Some(tokens.clone()),
        Some(config.clone()),
        Some(federation.clone()),
    );
    let guard = Arc::new(crate::http::guard::Guard::from_config(
        &config.security,
        config.max_in_flight,
        config.max_in_flight_per_address,
    ));
    let persisted = config
        .limits
        .persisted_queries
        .as_deref()
        .map(crate::http::graphql::load_allow_list)
        .transpose()?
        .map(Arc::new);
    let has_accounts = {
        let mut conn = db.get()?;
        alongside_core::accounts::any_account(&mut conn)?
    };
    let config_demo = config.demo_mode;
    // Made once per node (each language parsed when first read); a node with its own wording
    // keeps its catalogue for its lifetime.
    let catalogue: &'static alongside_core::i18n::Catalogue = match &config.node.wording_dir {
        Some(dir) => Box::leak(Box::new(
            alongside_core::i18n::Catalogue::with_overrides(dir)
                .map_err(|e| anyhow::anyhow!("{e}"))?,
        )),
        None => alongside_core::i18n::catalogue(),
    };
    let sso = config
        .oidc
        .as_ref()
        .map(|o| crate::sso::Sso::from_config(o, &issuer))
        .transpose()?
        .flatten()
        .map(Arc::new);
    Ok((
        AppState {
            config: Arc::new(config),
            db,
            tokens,
            oidc,
            schema,
            federation,
            guard,
            metrics: Arc::new(crate::observe::Metrics::default()),
            persisted,
            sso,
            catalogue,
            personas: config_demo.then(|| Arc::new(crate::pages::demo::Personas::default())),
            replica: format!("replica-{}", uuid::Uuid::new_v4().simple()).into(),
        },
        has_accounts,
    ))
}

/// The node's token service: its signing key (made on first start) and the retired keys still
/// published.
fn token_service(config: &Config, issuer: &str) -> anyhow::Result<TokenService> {
    let (key, created) = NodeKey::load_or_create(&config.data_dir)?;
    if created {
        tracing::info!(kid = key.kid(), "generated a new node signing key");
    }
    let retired = alongside_core::keyring::retired(&config.data_dir, alongside_core::time::now())?;
    Ok(TokenService::new(
        key,
        TokenSettings {
            issuer: issuer.to_owned(),
            audience: config.auth.audience.clone(),
            access_ttl: Duration::from_secs(config.auth.access_token_ttl_secs),
            refresh_ttl: Duration::from_secs(config.auth.refresh_token_ttl_days * 86_400),
        },
    )?
    .with_retired(retired))
}

/// The federation alone, for the operator's commands: the database (migrated), the signing key
/// and the federation's door, without the rest of a serving node.
pub fn federation_only(config: &Config) -> anyhow::Result<Federation> {
    // Its HTTP client needs the process-wide crypto provider, as in `start`.
    let _ = rustls::crypto::ring::default_provider().install_default();
    crate::files::private_dir(&config.data_dir)?;
    let db = open_database(config)?;
    migrate(&db)?;
    let issuer = config.issuer(&config.bind);
    let tokens = Arc::new(token_service(config, &issuer)?);
    federation_service(config, &db, tokens, &issuer)
}

/// What this configuration can deliver.
pub fn delivery(config: &Config) -> alongside_core::health::Delivery {
    alongside_core::health::Delivery {
        email: config.email.transport == "smtp" || config.development,
        texts: config.text_messages.gateway != "none",
    }
}

/// Every reason the node cannot reach someone it must (one decision, in core; what the
/// configuration can deliver is read here).
pub async fn degraded(
    state: &AppState,
) -> Result<Vec<alongside_core::health::Degraded>, alongside_core::CoreError> {
    let delivery = delivery(&state.config);
    state
        .db
        .run(move |conn| alongside_core::health::degraded(conn, delivery))
        .await
}

/// The federation service for this node's configuration.
pub fn federation_service(
    config: &Config,
    db: &Db,
    tokens: Arc<TokenService>,
    base_url: &str,
) -> anyhow::Result<Federation> {
    let f = &config.federation;
    Ok(Federation::new(
        db.clone(),
        tokens,
        FederationSettings {
            node_id: config.node.id.clone(),
            name: config.node.institution_name.clone(),
            base_url: base_url.trim_end_matches('/').to_owned(),
            clock_skew_secs: f.clock_skew_secs,
            call_lifetime_secs: f.call_lifetime_secs,
            match_deadline: Duration::from_millis(f.match_deadline_ms),
            member_timeout: Duration::from_millis(f.member_timeout_ms),
            match_fanout: f.match_fanout,
            match_enough: f.match_enough,
            manifest_lifetime: chrono::Duration::hours(f.manifest_lifetime_hours),
            suppression_k: config.metrics.suppression_k,
            candidate_k: config.federation.candidate_k.max(1),
            data_dir: config.data_dir.clone(),
        },
    )?)
}

/// A started server.
pub struct Running {
    pub addr: SocketAddr,
    pub state: AppState,
    pub server: actix_web::dev::Server,
    /// Whether any account existed at start-up.
    pub has_accounts: bool,
}

/// Binds, prepares the node and returns the server, not yet awaited. Port 0 picks a free port.
pub fn start(config: Config) -> anyhow::Result<Running> {
    // reqwest and rustls need a process-wide crypto provider; a second install is harmless.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let listener = TcpListener::bind(&config.bind)
        .with_context(|| format!("cannot listen on {} (is it in use?)", config.bind))?;
    let addr = listener.local_addr()?;
    let issuer = config.issuer(&addr.to_string());
    let workers = config.workers;
    let max_connections = config.max_connections;
    let (state, has_accounts) = prepare(config, issuer)?;
    let app_state = state.clone();
    let mut server = actix_web::HttpServer::new(move || {
        actix_web::App::new()
            // The last wrapped runs first: observe sees every answer, the guard's 429s included.
            .wrap(actix_web::middleware::from_fn(http::guard::guard))
            .wrap(actix_web::middleware::from_fn(crate::observe::observe))
            .configure(|cfg| http::configure(cfg, app_state.clone()))
    })
    .shutdown_timeout(10)
    // Whoever runs the server stops it: `serve` listens for signals from its first moment.
    .disable_signals()
    .max_connections(max_connections);
    if workers > 0 {
        server = server.workers(workers);
    }
    let server = server.listen(listener)?.run();
    Ok(Running {
        addr,
        state,
        server,
        has_accounts,
    })
}
