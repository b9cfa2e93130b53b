//! Test harness: a real node on an ephemeral loopback port, its own database (SQLite, or
//! PostgreSQL when `ALONGSIDE_TEST_DATABASE_URL` is set), and helpers that speak HTTP to it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::net::SocketAddr;

use alongside_api::config::Config;
use alongside_api::node::{self, AppState};
use alongside_core::access::{Role, Scope};
use alongside_core::accounts::{self, NewUser};
use alongside_core::clients;
use alongside_core::db::testing::TestDatabase;
use alongside_core::vocab::Profession;
use serde_json::{Value, json};
use uuid::Uuid;

pub mod federation;
pub mod idp;
pub mod smtp;
pub mod text_gateway;

pub const PASSWORD: &str = "correct horse battery staple";

/// GraphQL availability windows covering the whole week, for supporters who are always free.
pub const ALWAYS: &str = "[{weekday: MON, start: \"00:00\", end: \"23:59\"}, {weekday: TUE, start: \"00:00\", end: \"23:59\"}, {weekday: WED, start: \"00:00\", end: \"23:59\"}, {weekday: THU, start: \"00:00\", end: \"23:59\"}, {weekday: FRI, start: \"00:00\", end: \"23:59\"}, {weekday: SAT, start: \"00:00\", end: \"23:59\"}, {weekday: SUN, start: \"00:00\", end: \"23:59\"}]";

pub struct TestNode {
    pub addr: SocketAddr,
    pub base: String,
    pub state: AppState,
    pub http: reqwest::Client,
    /// The configuration it was started with.
    pub config: Config,
    handle: actix_web::dev::ServerHandle,
    worker: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
    pub dir: tempfile::TempDir,
    // Dropped last: the database outlives the server using it.
    _database: TestDatabase,
}

/// A signed-in test user.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub email: String,
    pub token: String,
    pub refresh_token: String,
    pub person_id: String,
    pub account_id: String,
}

impl TestNode {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let database = TestDatabase::create(dir.path()).unwrap();
        let mut config = Config {
            bind: "127.0.0.1:0".into(),
            data_dir: dir.path().join("data"),
            database_url: Some(database.url.clone()),
            workers: 2,
            ..Config::default()
        };
        config.database.pool_size = 4;
        // Tests sign in many times from one address; the abuse tests set their own limits.
        config.security.rate_limits.sign_in_per_ip_per_minute = 100_000;
        config.security.rate_limits.per_ip_per_minute = 100_000;
        config.security.rate_limits.per_token_per_minute = 100_000;
        // Webhook receivers in tests listen on loopback, which webhooks may not reach unless
        // allowed; the test of that rule takes the allowance away.
        config.outbox.webhook_allowed_networks = vec!["127.0.0.0/8".into(), "::1".into()];
        adjust(&mut config);
        let kept = config.clone();
        let running = tokio::task::spawn_blocking(move || node::start(config))
            .await
            .unwrap()
            .unwrap();
        let handle = running.server.handle();
        tokio::spawn(running.server);
        let addr = running.addr;
        Self {
            addr,
            base: format!("http://{addr}"),
            state: running.state,
            http: reqwest::Client::new(),
            config: kept,
            handle,
            worker: std::sync::Mutex::new(None),
            dir,
            _database: database,
        }
    }

    /// Stops the server: the node is offline until [`TestNode::restart`].
    pub async fn stop(&self) {
        self.handle.stop(true).await;
    }

    /// Stops the server and starts the node again on the same port and database, as an
    /// operator's restart does (e.g. after `alongside keys rotate`).
    pub async fn restart(&mut self) {
        self.handle.stop(true).await;
        let mut config = self.config.clone();
        config.bind = self.addr.to_string();
        let running = tokio::task::spawn_blocking(move || node::start(config))
            .await
            .unwrap()
            .unwrap();
        self.handle = running.server.handle();
        tokio::spawn(running.server);
        self.state = running.state;
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn is_postgres(&self) -> bool {
        self._database.is_postgres()
    }

    /// The node's throwaway database.
    pub fn database(&self) -> &TestDatabase {
        &self._database
    }

    /// Creates an account directly in the database, as `alongside admin create-user` does.
    pub async fn create_account(&self, email: &str, roles: &[Role]) -> (String, String) {
        let db = self.state.db.clone();
        let user = NewUser {
            email: email.into(),
            display_name: email.split('@').next().unwrap().into(),
            profession: Profession::Nurse,
            roles: roles
                .iter()
                .copied()
                .chain([Role::Member])
                .collect::<BTreeSet<_>>(),
            password: PASSWORD.into(),
        };
        let (account, person) = tokio::task::spawn_blocking(move || {
            let mut conn = db.get().unwrap();
            accounts::create_user_unchecked(&mut conn, user)
        })
        .await
        .unwrap()
        .unwrap();
        (account.id.to_string(), person.id.to_string())
    }

    /// Creates an account with these roles and signs in over HTTP.
    pub async fn user(&self, roles: &[Role]) -> TestUser {
        let email = format!("u{}@hospital.test", Uuid::new_v4().simple());
        let (account_id, person_id) = self.create_account(&email, roles).await;
        let body = self.login(&email, PASSWORD).await;
        TestUser {
            email,
            token: body["access_token"].as_str().unwrap().into(),
            refresh_token: body["refresh_token"].as_str().unwrap().into(),
            person_id,
            account_id,
        }
    }

    /// POST /api/v1/auth/login, asserting success.
    pub async fn login(&self, email: &str, password: &str) -> Value {
        let response = self
            .http
            .post(self.url("/api/v1/auth/login"))
            .json(&json!({ "email": email, "password": password }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "login failed");
        response.json().await.unwrap()
    }

    /// Registers a partner client and returns a client-credentials token for it.
    pub async fn client_token(&self, scopes: &[Scope]) -> String {
        let (id, secret) = self.create_client(scopes).await;
        let response = self
            .http
            .post(self.url("/oauth/token"))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", &id),
                ("client_secret", &secret),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        body["access_token"].as_str().unwrap().into()
    }

    pub async fn create_client(&self, scopes: &[Scope]) -> (String, String) {
        let db = self.state.db.clone();
        let scopes: BTreeSet<Scope> = scopes.iter().copied().collect();
        let created = tokio::task::spawn_blocking(move || {
            let mut conn = db.get().unwrap();
            clients::create(&mut conn, "Test partner", scopes)
        })
        .await
        .unwrap()
        .unwrap();
        (created.client.client_id, created.secret)
    }

    /// A GraphQL request; returns the status and the JSON body.
    pub async fn gql_raw(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> (u16, Value) {
        let mut request = self
            .http
            .post(self.url("/graphql"))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    /// A GraphQL request that must succeed; returns `data`.
    pub async fn gql(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let (status, body) = self.gql_raw(token, query, variables).await;
        assert_eq!(status, 200, "{body}");
        assert!(body.get("errors").is_none(), "unexpected errors: {body}");
        body["data"].clone()
    }

    /// Runs a count query against the node's database.
    pub async fn count(&self, table: &'static str) -> i64 {
        use diesel::RunQueryDsl;
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let db = self.state.db.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = db.get().unwrap();
            let sql = format!("SELECT COUNT(*) AS n FROM {table}");
            let rows: Vec<Count> = match &mut **conn {
                alongside_core::db::DbConnection::Pg(c) => diesel::sql_query(sql).load(c).unwrap(),
                alongside_core::db::DbConnection::Sqlite(c) => {
                    diesel::sql_query(sql).load(c).unwrap()
                }
            };
            rows[0].n
        })
        .await
        .unwrap()
    }

    /// Checks that every supporter's case count kept by the database (`supporter_cases`, summed
    /// over its stripes) is what counting the requests now gives, and that the coordinators'
    /// roster shows the same, and returns the counts by supporter (stored id), those at 0 left
    /// out.
    pub async fn caseloads_kept(&self) -> std::collections::BTreeMap<String, i64> {
        use diesel::RunQueryDsl;
        #[derive(diesel::QueryableByName)]
        struct Cases {
            #[diesel(sql_type = diesel::sql_types::Text)]
            supporter: String,
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        const KEPT: &str = "SELECT supporter_id AS supporter, CAST(SUM(cases) AS BIGINT) AS n \
            FROM supporter_cases GROUP BY supporter_id";
        const COUNTED: &str = "SELECT who AS supporter, COUNT(*) AS n FROM (SELECT CASE \
            WHEN state IN ('accepted', 'in_contact', 'follow_up') THEN supporter_id \
            WHEN state = 'offered' THEN offered_to END AS who FROM support_requests) r \
            WHERE who IS NOT NULL GROUP BY who";
        let db = self.state.db.clone();
        let (kept, counted) = tokio::task::spawn_blocking(move || {
            let mut conn = db.get().unwrap();
            let mut read = |sql: &str| -> std::collections::BTreeMap<String, i64> {
                let rows: Vec<Cases> = match &mut **conn {
                    alongside_core::db::DbConnection::Pg(c) => {
                        diesel::sql_query(sql).load(c).unwrap()
                    }
                    alongside_core::db::DbConnection::Sqlite(c) => {
                        diesel::sql_query(sql).load(c).unwrap()
                    }
                };
                rows.into_iter()
                    .filter(|r| r.n != 0)
                    .map(|r| (r.supporter, r.n))
                    .collect()
            };
            (read(KEPT), read(COUNTED))
        })
        .await
        .unwrap();
        assert_eq!(
            kept, counted,
            "the case counts kept are not the requests' own"
        );
        let coordinator =
            alongside_core::access::Principal::User(alongside_core::access::UserPrincipal {
                account_id: uuid::Uuid::nil(),
                person_id: uuid::Uuid::nil(),
                roles: [alongside_core::access::Role::Coordinator]
                    .into_iter()
                    .collect(),
            });
        let today = alongside_core::time::now().date();
        let roster: std::collections::BTreeMap<String, i64> =
            alongside_core::roster::roster(&self.state.db, &coordinator, today)
                .await
                .unwrap()
                .into_iter()
                .filter(|e| e.caseload != 0)
                .map(|e| (e.supporter.id.to_string(), e.caseload))
                .collect();
        assert_eq!(roster, kept, "the roster's caseloads are not the ones kept");
        kept
    }
}

impl Drop for TestNode {
    fn drop(&mut self) {
        // Stop the worker first, so it does not keep reaching for a database about to be
        // dropped; then stop accepting (connections close with the runtime).
        if let Ok(mut slot) = self.worker.lock()
            && let Some(task) = slot.take()
        {
            task.abort();
        }
        drop(self.handle.stop(false));
    }
}

/// A database connection held by a test (see [`TestNode::hold_a_connection`]).
pub struct HeldConnection {
    release: std::sync::mpsc::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), alongside_core::CoreError>>,
}

impl HeldConnection {
    pub async fn release(self) {
        self.release.send(()).unwrap();
        self.task.await.unwrap().unwrap();
    }
}

/// A Relay global id, as the GraphQL API issues them.
pub fn gid(kind: &str, id: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{kind}:{id}"))
}

/// The raw id inside a GraphQL global id (the inverse of [`gid`]).
pub fn raw_id(global: &str) -> String {
    use base64::Engine;
    let text = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(global)
        .expect("a global id");
    let text = String::from_utf8(text).expect("utf-8");
    text.split_once(':').expect("kind:id").1.to_owned()
}

impl TestNode {
    /// GET a path and parse the JSON body.
    pub async fn get_json(&self, path: &str) -> Value {
        self.http
            .get(self.url(path))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Starts this node's outbox delivery worker, as `serve` does.
    pub fn start_worker(&self) {
        let task = tokio::spawn(alongside_api::delivery::run(self.state.clone()));
        if let Ok(mut slot) = self.worker.lock() {
            *slot = Some(task);
        }
    }

    /// Delivery attempts so far of the outbox rows on `channel`.
    pub async fn outbox_attempts(&self, channel: &'static str) -> i32 {
        use alongside_core::schema::outbox;
        use diesel::prelude::*;
        self.state
            .db
            .run(move |conn| {
                Ok(outbox::table
                    .filter(outbox::channel.eq(channel))
                    .select(outbox::attempts)
                    .load::<i32>(conn)?
                    .into_iter()
                    .sum())
            })
            .await
            .unwrap()
    }

    /// The state of the first outbox row on `channel`, if there is one.
    pub async fn outbox_state(&self, channel: &'static str) -> Option<String> {
        use alongside_core::schema::outbox;
        use diesel::prelude::*;
        self.state
            .db
            .run(move |conn| {
                Ok(outbox::table
                    .filter(outbox::channel.eq(channel))
                    .select(outbox::state)
                    .first::<String>(conn)
                    .optional()?)
            })
            .await
            .unwrap()
    }

    /// Waits until `check` holds, up to 20 seconds.
    pub async fn wait_for<F, Fut>(&self, what: &str, mut check: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let start = std::time::Instant::now();
        while start.elapsed() < std::time::Duration::from_secs(20) {
            if check().await {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("timed out waiting for {what}");
    }

    /// The node's /metrics text (tests run from an allowed address).
    pub async fn metrics_text(&self) -> String {
        self.http
            .get(self.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// Takes one of the node's database turns (a pooled connection) and keeps it until
    /// released: with `database.pool_size = 1`, every other database call then waits.
    pub async fn hold_a_connection(&self) -> HeldConnection {
        let (held, is_held) = tokio::sync::oneshot::channel();
        let (release, is_released) = std::sync::mpsc::channel::<()>();
        let db = self.state.db.clone();
        let task = tokio::spawn(async move {
            db.run(move |_| {
                let _ = held.send(());
                // Returns when released, or when a failing test drops the sender.
                let _ = is_released.recv();
                Ok(())
            })
            .await
        });
        is_held.await.unwrap();
        HeldConnection { release, task }
    }

    /// Runs the clocks as if it were `minutes` from now.
    pub async fn sweep_in(&self, minutes: i64) -> alongside_core::requests::clock::SweepReport {
        let at = alongside_core::time::now() + chrono::Duration::minutes(minutes);
        alongside_core::requests::clock::sweep(&self.state.db, at)
            .await
            .unwrap()
    }
}

/// The first error's `extensions.code` in a GraphQL response.
pub fn error_code(body: &Value) -> Option<&str> {
    body["errors"][0]["extensions"]["code"].as_str()
}

/// Percent-encodes a value for a query string.
pub fn encode(value: &str) -> String {
    serde_urlencoded::to_string([("v", value)])
        .map(|s| s.trim_start_matches("v=").to_owned())
        .unwrap_or_default()
}

/// Decodes a percent-encoded (form-encoded) value.
pub fn decode(value: &str) -> String {
    serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("v={value}"))
        .ok()
        .and_then(|mut v| v.pop())
        .map(|(_, v)| v)
        .unwrap_or_default()
}
