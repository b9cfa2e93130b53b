//! Configuration: defaults, then a TOML file (`--config`), then `ALONGSIDE_*` environment
//! variables (nested keys joined with `__`, e.g. `ALONGSIDE_LIMITS__BODY_BYTES`), then flags.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use alongside_core::metrics::suppression::SuppressionK;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address and port to listen on.
    pub bind: String,
    /// Directory for the node's signing key and, by default, its SQLite database.
    pub data_dir: PathBuf,
    /// `sqlite://PATH` or `postgres://USER@HOST/DB`. Default: SQLite in the data directory.
    pub database_url: Option<String>,
    /// Apply pending migrations when `serve` starts.
    pub migrate_on_start: bool,
    /// Development mode: GraphiQL at /graphiql and field suggestions in GraphQL errors.
    pub development: bool,
    /// The URL clients reach this node at; the `iss` of its tokens. Default: http://BIND.
    pub public_url: Option<String>,
    /// HTTP worker threads; 0 means one per core.
    pub workers: usize,
    /// Open client connections each HTTP worker serves at once; more wait in the system's
    /// listen queue. Bounds the node's memory when it is offered more than it can serve.
    pub max_connections: usize,
    /// Requests the node answers at once (health, readiness, metrics and key documents not
    /// counted); one more is turned away at once with `UNAVAILABLE`, 503 and `Retry-After`, so
    /// overload gets prompt refusals instead of every request slowing down.
    pub max_in_flight: usize,
    /// Of those, how many one client address may have at once; one more is answered
    /// `RATE_LIMITED` (429, `Retry-After: 1`), so one client cannot take every place.
    pub max_in_flight_per_address: usize,
    /// Log format: "text" or "json".
    pub log_format: String,
    pub node: NodeConfig,
    pub auth: AuthConfig,
    pub limits: Limits,
    pub database: DatabaseConfig,
    pub maintenance: MaintenanceConfig,
    pub email: EmailConfig,
    pub text_messages: TextMessagesConfig,
    pub outbox: OutboxConfig,
    pub metrics: MetricsConfig,
    pub surveys: SurveysConfig,
    pub federation: FederationConfig,
    pub security: SecurityConfig,
    pub observability: ObservabilityConfig,
    /// The node's own pages: browser sessions.
    pub pages: PagesConfig,
    /// The institution's identity provider, if its tokens are accepted.
    pub oidc: Option<OidcConfig>,
    /// Set only by `alongside demo`, never from a file or the environment: serves the persona
    /// sign-in links (`/demo/as/KEY`) that the demo prints.
    #[serde(skip)]
    pub demo_mode: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NodeConfig {
    /// The node's id in a federation: a DNS name the institution controls.
    pub id: String,
    /// Used on first start only; afterwards change them through the API.
    pub institution_name: String,
    pub jurisdiction: String,
    pub crisis_resources: String,
    /// The language of pages and messages for people who chose none and whose browser asks for
    /// none the node speaks: `en` or `es`.
    pub default_language: String,
    /// The institution's own wording: a directory of `LANG/*.ftl` files whose messages replace
    /// the shipped ones (docs/configuration.md).
    pub wording_dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PagesConfig {
    /// A browser session ends this many hours after sign-in, however active.
    pub session_hours: u32,
    /// A browser session ends after this many minutes without a page request.
    pub idle_minutes: u32,
    /// The same two for accounts with the admin role, which can change the whole node.
    pub admin_session_hours: u32,
    pub admin_idle_minutes: u32,
}

impl Default for PagesConfig {
    fn default() -> Self {
        Self {
            session_hours: 12,
            idle_minutes: 30,
            admin_session_hours: 4,
            admin_idle_minutes: 15,
        }
    }
}

impl PagesConfig {
    pub fn policy(&self) -> alongside_core::sessions::SessionPolicy {
        let h = |n: u32| chrono::Duration::hours(i64::from(n.max(1)));
        let m = |n: u32| chrono::Duration::minutes(i64::from(n.max(1)));
        alongside_core::sessions::SessionPolicy {
            lifetime: h(self.session_hours),
            idle: m(self.idle_minutes),
            admin_lifetime: h(self.admin_session_hours),
            admin_idle: m(self.admin_idle_minutes),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// `aud` of access tokens for this node.
    pub audience: String,
    pub access_token_ttl_secs: u64,
    pub refresh_token_ttl_days: u64,
    /// Allow passwordless sign-in by a single-use email link (15 minutes).
    pub sign_in_links: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Largest request body accepted, in bytes.
    pub body_bytes: usize,
    /// How long a request's body may take to arrive once its headers have; slower is refused
    /// with `LIMIT_EXCEEDED` (408). Bodies are read before the request counts as in flight.
    pub body_deadline_ms: u64,
    pub graphql_depth: usize,
    pub graphql_complexity: usize,
    pub graphql_recursive_depth: usize,
    pub graphql_directives: usize,
    /// Fields one document may select, every alias and `__typename` included (fragments counted
    /// each time they are spread): complexity alone lets through thousands of free fields.
    pub graphql_fields: usize,
    /// Persisted-query allow-list for production partner apps: a JSON file mapping the SHA-256
    /// (hex) of each allowed query document to its text. When set, only those documents run;
    /// clients may send the text, or only `extensions.persistedQuery.sha256Hash`.
    pub persisted_queries: Option<PathBuf>,
    /// Answer GraphQL introspection queries. Off by default outside development mode: the
    /// schema is published (`alongside schema`, docs/schema.graphql) and need not be served.
    pub graphql_introspection: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    /// Connections per node process, and so database calls at once. The default suits a node
    /// and its PostgreSQL sharing two processors; raise it for a database server of its own.
    pub pool_size: u32,
    /// How long SQLite waits for a lock before giving up.
    pub busy_timeout_ms: u32,
    /// Each SQLite connection's page cache, in KiB (at least 64); the pool holds up to
    /// `pool_size` of them. PostgreSQL ignores it.
    pub sqlite_cache_kib: u32,
    /// How long a request waits for a free connection before the node turns it away with
    /// `UNAVAILABLE` and `Retry-After` (it is not started): overload then gets prompt refusals
    /// instead of an ever longer queue.
    pub queue_timeout_ms: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MaintenanceConfig {
    /// How often `serve` checks the clocks (acknowledgement, first contact) and offer timeouts.
    pub interval_secs: u64,
    /// Days after a case ends before its identifiable data is removed.
    pub retention_days: u32,
    /// Years who was involved in an event is kept at most, if no coordinator closes the event
    /// first (a lawsuit or deposition years later still reaches everyone involved).
    pub event_involvement_years: u32,
    /// A year after an event, renew outreach to everyone still involved (an anniversary
    /// milestone, added by the scheduler).
    pub anniversary_outreach: bool,
    /// Where `serve` appends the audit chain's signed head each round it has moved (the
    /// witness `admin audit verify` checks the chain against). Ship it off the machine.
    /// Default: `audit-heads.jwt` in the data directory.
    pub audit_witness_file: Option<PathBuf>,
}

impl Default for MaintenanceConfig {
    fn default() -> Self {
        Self {
            interval_secs: 30,
            retention_days: alongside_core::retention::DEFAULT_RETENTION_DAYS,
            event_involvement_years: alongside_core::retention::DEFAULT_INVOLVEMENT_YEARS,
            anniversary_outreach: true,
            audit_witness_file: None,
        }
    }
}

impl MaintenanceConfig {
    pub fn witness_file(&self, data_dir: &Path) -> PathBuf {
        self.audit_witness_file
            .clone()
            .unwrap_or_else(|| data_dir.join(alongside_core::audit::witness::DEFAULT_FILE))
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SurveysConfig {
    /// Replaces the default questions, e.g. with a validated instrument the institution holds a
    /// licence for: `[[surveys.questions]] id = "…" text = "…" kind = "likert5" | "yes_no" |
    /// "choice"` (with `choices = [...]`).
    pub questions: Option<Vec<alongside_core::surveys::Question>>,
}

impl SurveysConfig {
    pub fn questions(&self) -> Vec<alongside_core::surveys::Question> {
        self.questions
            .clone()
            .unwrap_or_else(alongside_core::surveys::default_questions)
    }
}

#[derive(Default, Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    /// Counts from 1 to k−1 are suppressed before anyone sees them (at least 2).
    pub suppression_k: SuppressionK,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmailConfig {
    /// "log" (default: logs that a message was sent, reaches no server), "file" (writes .eml
    /// files to `file_dir`), or "smtp".
    pub transport: String,
    /// The From address.
    pub from: String,
    /// For the file transport [default: DATA_DIR/mail].
    pub file_dir: Option<PathBuf>,
    pub smtp: SmtpConfig,
}

impl Default for EmailConfig {
    fn default() -> Self {
        Self {
            transport: "log".into(),
            from: "Alongside <no-reply@localhost>".into(),
            file_dir: None,
            smtp: SmtpConfig::default(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    /// "starttls" (default), "tls" (implicit TLS, usually port 465) or "none" (local relays only).
    pub tls: String,
    pub username: Option<String>,
    pub password: Option<String>,
    pub timeout_secs: u64,
}

impl Default for SmtpConfig {
    fn default() -> Self {
        Self {
            host: "localhost".into(),
            port: 587,
            tls: "starttls".into(),
            username: None,
            password: None,
            timeout_secs: 10,
        }
    }
}

/// Text messages (SMS and pagers) for people who gave a phone number and chose texts.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TextMessagesConfig {
    /// "none" (default: texts wait in the outbox and are reported), "messages_api" (an HTTP
    /// gateway taking `From`, `To`, `Body` form-encoded with basic auth at
    /// `BASE_URL/Accounts/ACCOUNT/Messages.json`), or "email_to_pager" (an email to
    /// `NUMBER@pager_domain`, through `[email]`).
    pub gateway: String,
    /// The gateway's API root, e.g. `https://sms.example.org/2010-04-01`.
    pub base_url: Option<String>,
    pub account: Option<String>,
    /// The account's token (the basic-auth password). Prefer the environment:
    /// `ALONGSIDE_TEXT_MESSAGES__TOKEN`.
    pub token: Option<String>,
    /// The sending number, E.164.
    pub from: Option<String>,
    /// For "email_to_pager": the domain of the pager service's email gateway.
    pub pager_domain: Option<String>,
    pub timeout_secs: u64,
}

impl Default for TextMessagesConfig {
    fn default() -> Self {
        Self {
            gateway: "none".into(),
            base_url: None,
            account: None,
            token: None,
            from: None,
            pager_domain: None,
            timeout_secs: 10,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutboxConfig {
    /// Run a delivery worker in this process.
    pub worker: bool,
    /// How often an idle worker looks for due messages.
    pub poll_interval_ms: u64,
    pub batch_size: i64,
    /// Attempts before a message is dead-lettered.
    pub max_attempts: i32,
    /// First retry delay; doubles each attempt, with ±20% jitter.
    pub backoff_base_ms: u64,
    pub backoff_max_secs: u64,
    /// How long a claimed message is reserved for its worker; a crashed worker's messages are
    /// picked up again after this.
    pub lease_secs: u64,
    pub webhook_timeout_secs: u64,
    /// Networks (`10.20.0.0/16`) or addresses webhooks may reach besides the public internet.
    /// Empty by default: no loopback, private, link-local or metadata address.
    pub webhook_allowed_networks: Vec<String>,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        Self {
            worker: true,
            poll_interval_ms: 1000,
            batch_size: 20,
            max_attempts: 8,
            backoff_base_ms: 10_000,
            backoff_max_secs: 3600,
            lease_secs: 60,
            webhook_timeout_secs: 10,
            webhook_allowed_networks: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcConfig {
    pub issuer: String,
    pub jwks_url: String,
    pub audience: String,
    /// Accepted algorithms. Default: RS256, ES256, EdDSA.
    #[serde(default = "default_oidc_algorithms")]
    pub algorithms: Vec<String>,
    #[serde(default = "default_role_claim")]
    pub role_claim: String,
    /// Provider group or role name → node role.
    #[serde(default)]
    pub role_map: BTreeMap<String, String>,
    #[serde(default = "default_email_claim")]
    pub email_claim: String,
    #[serde(default = "default_name_claim")]
    pub name_claim: String,
    /// The node's client id at the provider: set it to offer single sign-on on the pages
    /// (authorization code flow with PKCE; redirect URI `PUBLIC_URL/sign-in/sso/callback`).
    #[serde(default)]
    pub client_id: Option<String>,
    /// The client secret, for a confidential client; leave unset for a public client.
    #[serde(default)]
    pub client_secret: Option<String>,
}

fn default_oidc_algorithms() -> Vec<String> {
    vec!["RS256".into(), "ES256".into(), "EdDSA".into()]
}
fn default_role_claim() -> String {
    "roles".into()
}
fn default_email_claim() -> String {
    "email".into()
}
fn default_name_claim() -> String {
    "name".into()
}

impl Default for Config {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("alongside-data"),
            database_url: None,
            migrate_on_start: true,
            development: false,
            public_url: None,
            workers: 0,
            max_connections: 256,
            max_in_flight: 128,
            max_in_flight_per_address: 64,
            log_format: "text".into(),
            node: NodeConfig::default(),
            auth: AuthConfig::default(),
            limits: Limits::default(),
            database: DatabaseConfig::default(),
            maintenance: MaintenanceConfig::default(),
            email: EmailConfig::default(),
            text_messages: TextMessagesConfig::default(),
            outbox: OutboxConfig::default(),
            metrics: MetricsConfig::default(),
            surveys: SurveysConfig::default(),
            federation: FederationConfig::default(),
            security: SecurityConfig::default(),
            demo_mode: false,
            pages: PagesConfig::default(),
            observability: ObservabilityConfig::default(),
            oidc: None,
        }
    }
}

/// Monitoring.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ObservabilityConfig {
    /// Client addresses that may read the Prometheus metrics at `/metrics` (everyone else gets
    /// 404). Loopback only by default; add your Prometheus server's address.
    pub metrics_allow: Vec<String>,
    /// Base URL of an OpenTelemetry collector's OTLP/HTTP receiver, e.g.
    /// `http://127.0.0.1:4318`; spans are sent as JSON to its `/v1/traces`. Unset (the
    /// default): no export.
    pub otlp_endpoint: Option<String>,
    /// Which spans are exported, as a tracing filter. The default includes every request,
    /// GraphQL operation, database call and federation call.
    pub otlp_filter: String,
}

impl Default for ObservabilityConfig {
    fn default() -> Self {
        Self {
            metrics_allow: vec!["127.0.0.1".into(), "::1".into()],
            otlp_endpoint: None,
            otlp_filter: "info,alongside_api=debug,alongside_core=debug,alongside_federation=debug"
                .into(),
        }
    }
}

impl Config {
    /// What [`crate::telemetry::init`] needs to export traces.
    pub fn otlp(&self) -> crate::telemetry::Otlp {
        crate::telemetry::Otlp {
            endpoint: self
                .observability
                .otlp_endpoint
                .clone()
                .filter(|e| !e.trim().is_empty()),
            node_id: self.node.id.clone(),
            filter: self.observability.otlp_filter.clone(),
        }
    }
}

/// Browser access, transport headers and rate limits.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SecurityConfig {
    /// Web origins allowed to call the APIs from a browser (CORS), exactly as the browser sends
    /// them, e.g. ["https://peer-app.example.org"]. Empty: no cross-origin browser access.
    pub cors_origins: Vec<String>,
    /// Send `Strict-Transport-Security` (turn on when clients reach the node over HTTPS).
    pub hsts: bool,
    /// Take the client's address from the last `X-Forwarded-For` entry. Only behind a reverse
    /// proxy that sets it; otherwise anyone could pick the address they are limited under.
    pub trust_forwarded_for: bool,
    pub rate_limits: RateLimits,
}

/// Requests per minute, each with a burst of the same size; over it, `429` with `Retry-After`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimits {
    pub enabled: bool,
    /// Every API request from one client address (GraphQL, REST).
    pub per_ip_per_minute: u32,
    /// Requests carrying the same bearer token.
    pub per_token_per_minute: u32,
    /// Sign-in, refresh, sign-in links and the OAuth token endpoint, per client address.
    pub sign_in_per_ip_per_minute: u32,
    /// Federation calls per client address, counted before any work (the call is not yet
    /// verified, so its claimed member cannot pick the bucket).
    pub federation_per_ip_per_minute: u32,
    /// Federation calls per member, counted once the call's signature is verified.
    pub federation_per_member_per_minute: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            enabled: true,
            per_ip_per_minute: 1200,
            per_token_per_minute: 600,
            sign_in_per_ip_per_minute: 30,
            federation_per_ip_per_minute: 1200,
            federation_per_member_per_minute: 1200,
        }
    }
}

/// Timing of the federation protocol. Membership itself (steward or member, the pinned steward
/// key) is set with `alongside federation …` and kept in the database.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FederationConfig {
    /// Clock difference tolerated on inbound calls, seconds.
    pub clock_skew_secs: i64,
    /// Lifetime of the calls this node signs, seconds (at most 60).
    pub call_lifetime_secs: i64,
    /// The longest a cross-institution match waits for all members together, milliseconds.
    pub match_deadline_ms: u64,
    /// The longest it waits for one member, milliseconds.
    pub member_timeout_ms: u64,
    /// How many members a match asks at once; 0 asks every member at once.
    pub match_fanout: usize,
    /// A match asks the next `match_fanout` members only while fewer candidates than this have
    /// come back.
    pub match_enough: usize,
    /// How often a member checks the steward for a new manifest.
    pub manifest_refresh_secs: u64,
    /// How often a member pulls the other members' directory feeds (with up to 20% jitter).
    pub sync_interval_secs: u64,
    /// How long a manifest issued by a steward is valid; it is re-issued at half its life.
    pub manifest_lifetime_hours: i64,
    /// How often a steward pulls its members' metrics: this month, the last, and any month of
    /// the last 24 it lacks.
    pub metrics_pull_secs: u64,
    /// A candidate this node offers another member is described only as far as at least this
    /// many of its opted-in supporters fit the description, else not offered. The availability
    /// digest leaves out counts below it by the same rule.
    pub candidate_k: usize,
    /// How often a member recomputes its availability digest (published only when a band
    /// changes), minutes.
    pub digest_refresh_minutes: u64,
}

impl Default for FederationConfig {
    fn default() -> Self {
        Self {
            clock_skew_secs: 300,
            call_lifetime_secs: 30,
            match_deadline_ms: 3000,
            member_timeout_ms: 2500,
            match_fanout: 8,
            match_enough: 3,
            manifest_refresh_secs: 300,
            sync_interval_secs: 300,
            manifest_lifetime_hours: 168,
            metrics_pull_secs: 3600,
            candidate_k: alongside_core::requests::outside::CANDIDATE_K,
            digest_refresh_minutes: 5,
        }
    }
}

impl Default for NodeConfig {
    fn default() -> Self {
        Self {
            id: "localhost".into(),
            institution_name: "Alongside node".into(),
            jurisdiction: "US".into(),
            crisis_resources: alongside_core::institution::DEFAULT_CRISIS_RESOURCES.into(),
            default_language: "en".into(),
            wording_dir: None,
        }
    }
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            audience: "alongside".into(),
            access_token_ttl_secs: 900,
            refresh_token_ttl_days: 30,
            sign_in_links: false,
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            body_bytes: 64 * 1024,
            body_deadline_ms: 10_000,
            graphql_depth: 12,
            graphql_complexity: 500,
            graphql_recursive_depth: 32,
            graphql_directives: 4,
            graphql_fields: 1000,
            graphql_introspection: false,
            persisted_queries: None,
        }
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            pool_size: alongside_core::db::DEFAULT_POOL_SIZE,
            busy_timeout_ms: 5_000,
            sqlite_cache_kib: alongside_core::db::DEFAULT_SQLITE_CACHE_KIB,
            queue_timeout_ms: u64::try_from(alongside_core::db::DEFAULT_QUEUE_TIMEOUT.as_millis())
                .unwrap_or(1_000),
        }
    }
}

/// Values given as command-line flags, which win over the file and the environment.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub migrate_on_start: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub development: Option<bool>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration file {0} does not exist")]
    MissingFile(PathBuf),
    #[error("configuration: {0}")]
    Invalid(String),
}

impl Config {
    /// Loads configuration from its layers. The environment is read through `env_prefix`
    /// (normally `ALONGSIDE_`).
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            if !path.exists() {
                return Err(ConfigError::MissingFile(path.to_path_buf()));
            }
            figment = figment.merge(Toml::file(path));
        }
        let figment = figment
            .merge(
                Env::prefixed("ALONGSIDE_")
                    .split("__")
                    // Not settings: the test suite's database, the log filter (read by
                    // telemetry) and the configuration file's path (read by the CLI).
                    .ignore(&["TEST_DATABASE_URL", "LOG", "CONFIG"]),
            )
            .merge(Serialized::defaults(overrides));
        let config: Config = figment
            .extract()
            .map_err(|e| ConfigError::Invalid(e.to_string()))?;
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> Result<(), ConfigError> {
        let bad = |m: &str| Err(ConfigError::Invalid(m.to_owned()));
        if self.limits.body_bytes < 1024 {
            return bad("limits.body_bytes must be at least 1024");
        }
        if !(100..=600_000).contains(&self.limits.body_deadline_ms) {
            return bad("limits.body_deadline_ms must be between 100 and 600000");
        }
        if alongside_core::i18n::Locale::parse(&self.node.default_language).is_none() {
            let known: Vec<_> = alongside_core::i18n::Locale::ALL
                .iter()
                .map(|l| l.tag())
                .collect();
            return Err(ConfigError::Invalid(format!(
                "node.default_language {:?} is not a language this node speaks; use one of {}",
                self.node.default_language,
                known.join(", ")
            )));
        }
        if self.auth.access_token_ttl_secs < 60 || self.auth.access_token_ttl_secs > 24 * 3600 {
            return bad("auth.access_token_ttl_secs must be between 60 and 86400");
        }
        if self.auth.refresh_token_ttl_days == 0 || self.auth.refresh_token_ttl_days > 365 {
            return bad("auth.refresh_token_ttl_days must be between 1 and 365");
        }
        if self.maintenance.interval_secs == 0 || self.maintenance.interval_secs > 3600 {
            return bad("maintenance.interval_secs must be between 1 and 3600");
        }
        if !(1..=3650).contains(&self.maintenance.retention_days) {
            return bad("maintenance.retention_days must be between 1 and 3650");
        }
        if !(1..=30).contains(&self.maintenance.event_involvement_years) {
            return bad("maintenance.event_involvement_years must be between 1 and 30");
        }
        if !matches!(self.email.transport.as_str(), "log" | "file" | "smtp") {
            return bad("email.transport must be \"log\", \"file\" or \"smtp\"");
        }
        let t = &self.text_messages;
        match t.gateway.as_str() {
            "none" => {}
            "messages_api" => {
                if t.base_url.is_none() || t.account.is_none() || t.token.is_none() {
                    return bad(
                        "text_messages.gateway = \"messages_api\" needs text_messages.base_url, account and token",
                    );
                }
                match t
                    .from
                    .as_deref()
                    .map(|f| alongside_core::validate::phone("from", f))
                {
                    Some(Ok(_)) => {}
                    _ => {
                        return bad(
                            "text_messages.from must be the sending number with its country code, e.g. +15550100123",
                        );
                    }
                }
            }
            "email_to_pager" => {
                if t.pager_domain
                    .as_deref()
                    .is_none_or(|d| d.trim().is_empty())
                {
                    return bad(
                        "text_messages.gateway = \"email_to_pager\" needs text_messages.pager_domain",
                    );
                }
            }
            _ => {
                return bad(
                    "text_messages.gateway must be \"none\", \"messages_api\" or \"email_to_pager\"",
                );
            }
        }
        if let Err(e) = alongside_core::notify::destinations::Destinations::new(
            &self.outbox.webhook_allowed_networks,
        ) {
            return Err(ConfigError::Invalid(e.to_string()));
        }
        if t.timeout_secs == 0 || t.timeout_secs > 120 {
            return bad("text_messages.timeout_secs must be between 1 and 120");
        }
        if !matches!(self.email.smtp.tls.as_str(), "starttls" | "tls" | "none") {
            return bad("email.smtp.tls must be \"starttls\", \"tls\" or \"none\"");
        }
        if self.outbox.batch_size < 1
            || self.outbox.max_attempts < 1
            || self.outbox.poll_interval_ms == 0
        {
            return bad(
                "outbox.batch_size, outbox.max_attempts and outbox.poll_interval_ms must be at least 1",
            );
        }
        if self.database.queue_timeout_ms == 0 {
            return bad(
                "database.queue_timeout_ms must be at least 1 (a large value, e.g. 60000, turns the shedding off in practice)",
            );
        }
        if self.max_connections == 0
            || self.max_in_flight == 0
            || self.max_in_flight_per_address == 0
        {
            return bad(
                "max_connections, max_in_flight and max_in_flight_per_address must be at least 1",
            );
        }
        if !matches!(self.log_format.as_str(), "text" | "json") {
            return bad("log_format must be \"text\" or \"json\"");
        }
        let r = &self.security.rate_limits;
        if r.enabled
            && [
                r.per_ip_per_minute,
                r.per_token_per_minute,
                r.sign_in_per_ip_per_minute,
                r.federation_per_ip_per_minute,
                r.federation_per_member_per_minute,
            ]
            .contains(&0)
        {
            return bad(
                "security.rate_limits: every limit must be at least 1 (set enabled = false to turn them off)",
            );
        }
        if let Some(o) = self.security.cors_origins.iter().find(|o| {
            let rest = o
                .strip_prefix("https://")
                .or_else(|| o.strip_prefix("http://"));
            rest.is_none_or(|r| r.is_empty() || r.contains('/'))
        }) {
            return Err(ConfigError::Invalid(format!(
                "security.cors_origins: {o:?} is not an origin; write it as scheme://host[:port], without a path or trailing slash"
            )));
        }
        if let Some(a) = self
            .observability
            .metrics_allow
            .iter()
            .find(|a| a.parse::<std::net::IpAddr>().is_err())
        {
            return Err(ConfigError::Invalid(format!(
                "observability.metrics_allow: {a:?} is not an IP address (one address per entry, no port or range)"
            )));
        }
        let f = &self.federation;
        if !(1..=60).contains(&f.call_lifetime_secs) {
            return bad("federation.call_lifetime_secs must be between 1 and 60");
        }
        if !(0..=3600).contains(&f.clock_skew_secs) {
            return bad("federation.clock_skew_secs must be between 0 and 3600");
        }
        if f.member_timeout_ms < 50 || f.match_deadline_ms < 50 {
            return bad(
                "federation.member_timeout_ms and federation.match_deadline_ms must be at least 50",
            );
        }
        if f.match_enough == 0 {
            return bad(
                "federation.match_enough must be at least 1 (the candidates a match looks for before it stops asking)",
            );
        }
        if !(1..=24 * 90).contains(&f.manifest_lifetime_hours) {
            return bad("federation.manifest_lifetime_hours must be between 1 and 2160");
        }
        if f.manifest_refresh_secs == 0 || f.sync_interval_secs == 0 || f.metrics_pull_secs == 0 {
            return bad(
                "federation.manifest_refresh_secs, sync_interval_secs and metrics_pull_secs must be at least 1",
            );
        }
        if f.digest_refresh_minutes == 0 {
            return bad(
                "federation.digest_refresh_minutes must be at least 1 (how often the availability digest is recomputed)",
            );
        }
        Ok(())
    }

    /// The database URL in force: the configured one, or SQLite in the data directory.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}", self.data_dir.join("alongside.db").display()),
        }
    }

    /// The issuer of this node's tokens.
    pub fn issuer(&self, bound: &str) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{bound}"))
    }
}
