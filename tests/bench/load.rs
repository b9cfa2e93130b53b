//! Load evidence for docs/performance.md. Starts the release `alongside` binary as its own
//! process (SQLite in a temporary directory, or the PostgreSQL database in
//! `LOAD_DATABASE_URL`), loads sample data through the API, then drives it from this
//! process over loopback:
//!
//! 1. the read mix (resource directory, programs, my requests) as fast as 64 connections go;
//! 2. the mixed workload (80% those reads, 20% writes: new requests and encounters) at a fixed
//!    1,000 requests/s, for the latency distribution; the members who read "my requests" are
//!    not the ones making new requests (see `READERS`);
//! 3. the ceiling: a trivial actix-web JSON route (this binary in `ceiling` mode, its own
//!    process) as fast as the same 64 connections go.
//!
//! Reports throughput, p50/p99, errors and the node's peak RSS (VmHWM); requests the node
//! turned away as busy (`UNAVAILABLE`, see `database.queue_timeout_ms`) are counted apart from
//! errors, with the latency of those served beside them. Rate limits are turned
//! off for the run: one load generator is one client address. The measured phases send
//! through the bench's own lean HTTP/1.1 client (`load/http.rs`), which shares the machine's
//! processors with the node; the sample data goes in through reqwest. Not a test; nothing
//! asserts time.
//!
//! `cargo bench -p alongside-tests --bench load` (the `alongside` release binary must be built:
//! `cargo build --release --bin alongside`). `LOAD_SECS` sets each phase's length
//! (default 60); `LOAD_RATE` the mixed phase's offered rate (default 1,000/s), e.g. one over
//! the node's capacity to see it shed load; `LOAD_TIMELINE=N` adds `requestSupport`'s latency in
//! windows of N seconds, and the wall-clock time the first window starts (the first write's end;
//! `scripts/write-tail-seconds.sh` lines the windows up with the processor time of each second);
//! `LOAD_WARMUP=N` runs the mixed load for N seconds first, not counted.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

#[path = "load/http.rs"]
mod http;

const CONNECTIONS: usize = 64;
const PASSWORD: &str = "correct horse battery staple";
const ALWAYS: &str = "[{weekday: MON, start: \"00:00\", end: \"23:59\"}, {weekday: TUE, start: \"00:00\", end: \"23:59\"}, {weekday: WED, start: \"00:00\", end: \"23:59\"}, {weekday: THU, start: \"00:00\", end: \"23:59\"}, {weekday: FRI, start: \"00:00\", end: \"23:59\"}, {weekday: SAT, start: \"00:00\", end: \"23:59\"}, {weekday: SUN, start: \"00:00\", end: \"23:59\"}]";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn binary() -> std::path::PathBuf {
    let dir = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
    let bin = std::path::Path::new(&dir).join("release/alongside");
    assert!(
        bin.exists(),
        "build it first: cargo build --release --bin alongside ({})",
        bin.display()
    );
    bin
}

fn vm(pid: u32, key: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

struct Node {
    child: Child,
    base: String,
    _dir: tempfile::TempDir,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start_node(database: Option<&str>) -> Node {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut cmd = Command::new(binary());
    cmd.args([
        "serve",
        "--bind",
        &format!("127.0.0.1:{port}"),
        "--data-dir",
    ])
    .arg(dir.path().join("data"))
    .env("ALONGSIDE_SECURITY__RATE_LIMITS__ENABLED", "false")
    // Every request of the bench comes from one address; an open-loop phase can have more than
    // the default 64 in flight at once when the node lags, which a real client could not.
    .env("ALONGSIDE_MAX_IN_FLIGHT_PER_ADDRESS", "100000")
    .env("ALONGSIDE_WORKERS", "2")
    .env(
        "ALONGSIDE_LOG",
        std::env::var("LOAD_NODE_LOG").unwrap_or_else(|_| "warn".into()),
    )
    .stdout(Stdio::null());
    // LOAD_NODE_LOG (a log filter) shows the node's log on this process's stderr.
    if std::env::var("LOAD_NODE_LOG").is_err() {
        cmd.stderr(Stdio::null());
    }
    if let Some(url) = database {
        cmd.args(["--database-url", url]);
    }
    let child = cmd.spawn().unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let mut ready = false;
    let http = reqwest::Client::new();
    for _ in 0..400 {
        if http
            .get(format!("{base}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(ready, "the node did not become ready");
    Node {
        child,
        base,
        _dir: dir,
    }
}

fn create_admin(node: &Node, database: Option<&str>) {
    let mut cmd = Command::new(binary());
    cmd.args([
        "admin",
        "create-user",
        "--email",
        "admin@load.test",
        "--role",
        "admin",
        "--role",
        "coordinator",
        "--data-dir",
    ])
    .arg(node._dir.path().join("data"))
    .stdin(Stdio::piped())
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    if let Some(url) = database {
        cmd.args(["--database-url", url]);
    }
    let mut child = cmd.spawn().unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(PASSWORD.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    async fn login(&self, email: &str) -> String {
        let r: Value = self
            .http
            .post(format!("{}/api/v1/auth/login", self.base))
            .json(&json!({ "email": email, "password": PASSWORD }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        r["access_token"].as_str().unwrap().to_owned()
    }

    async fn gql(&self, token: &str, query: &str, vars: Value) -> Value {
        let r: Value = self
            .http
            .post(format!("{}/graphql", self.base))
            .bearer_auth(token)
            .json(&json!({ "query": query, "variables": vars }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(r.get("errors").is_none(), "{r}");
        r["data"].clone()
    }
}

struct Fixture {
    members: Vec<String>,
    /// (supporter token, request id) of accepted requests, for encounters.
    accepted: Vec<(String, String)>,
    /// The measured phases' request bodies, made once: the reads', a new request's, and each
    /// accepted request's encounter (in `accepted`'s order).
    reads: Vec<Vec<u8>>,
    new_request: Vec<u8>,
    encounters: Vec<Vec<u8>>,
}

async fn load_data(c: &Client) -> Fixture {
    let admin = c.login("admin@load.test").await;
    c.gql(&admin, "mutation { createProgram(input: {name: \"Peer support\", kind: PEER_SUPPORT, tier: 2, hours: \"24/7\", contact: \"x1\", followUpDays: [7, 30]}) { id } }", json!({})).await;
    for i in 0..30 {
        c.gql(&admin, "mutation($i: ResourceInputGql!) { createResource(input: $i) { id } }", json!({ "i": { "kind": "GUIDANCE_CARD", "title": format!("Guide {i}: after a hard shift"), "summary": "What helps in the first days.", "body": "Talk with a peer. Sleep. Eat.", "tags": ["self care"], "licence": "CC BY 4.0" } })).await;
    }
    let create = "mutation($e: String!, $r: [Role!]!) { createUser(input: {email: $e, displayName: \"Load user\", profession: NURSE, roles: $r, password: \"correct horse battery staple\"}) { person { id } } }";
    let mut supporters = Vec::new();
    for i in 0..20 {
        let made = c
            .gql(
                &admin,
                create,
                json!({ "e": format!("s{i}@load.test"), "r": ["PEER_SUPPORTER"] }),
            )
            .await;
        let person = made["createUser"]["person"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let q = format!(
            "mutation($id: ID!) {{ upsertPeerSupporter(input: {{personId: $id, trainedOn: \"2025-01-01\", timeZone: \"UTC\", caseloadCap: 50, availability: {ALWAYS}}}) {{ id }} }}"
        );
        c.gql(&admin, &q, json!({ "id": person })).await;
        supporters.push(c.login(&format!("s{i}@load.test")).await);
    }
    let mut members = Vec::new();
    for i in 0..50 {
        c.gql(
            &admin,
            create,
            json!({ "e": format!("m{i}@load.test"), "r": [] }),
        )
        .await;
        members.push(c.login(&format!("m{i}@load.test")).await);
    }
    // Accepted requests for the encounter writes: each request is offered to a supporter, who
    // accepts.
    let mut accepted = Vec::new();
    for m in members.iter().take(40) {
        c.gql(
            m,
            "mutation { requestSupport(input: {modality: VIDEO}) { request { id } } }",
            json!({}),
        )
        .await;
    }
    for s in &supporters {
        let offered = c
            .gql(s, "{ supportingRequests { id state } }", json!({}))
            .await;
        for r in offered["supportingRequests"].as_array().unwrap() {
            if r["state"] == "OFFERED" {
                c.gql(
                    s,
                    "mutation($id: ID!) { respondToOffer(id: $id, accept: true) { id } }",
                    json!({ "id": r["id"] }),
                )
                .await;
                accepted.push((s.clone(), r["id"].as_str().unwrap().to_owned()));
            }
        }
    }
    let body = |v: Value| serde_json::to_vec(&v).unwrap();
    let today = chrono::Utc::now().date_naive().to_string();
    Fixture {
        reads: READS.iter().map(|q| body(json!({ "query": q }))).collect(),
        new_request: body(
            json!({ "query": "mutation { requestSupport(input: {modality: PHONE}) { request { id } } }" }),
        ),
        encounters: accepted
            .iter()
            .map(|(_, r)| body(json!({ "query": "mutation($id: ID!, $d: Date!) { recordEncounter(requestId: $id, input: {occurredOn: $d, duration: UNDER_FIFTEEN, modality: PHONE}) { id } }", "variables": { "id": r, "d": today } })))
            .collect(),
        members,
        accepted,
    }
}

const READS: [&str; 3] = [
    "{ resources(first: 10) { edges { node { id title summary tags } } } }",
    "{ programs(first: 10) { edges { node { id name kind tier hours } } } }",
    "{ mySupportRequests { id state urgency createdAt } }",
];
/// The operation each of `READS` runs, for the report.
const READ_OPERATIONS: [&str; 3] = ["resources", "programs", "mySupportRequests"];

#[derive(Default)]
struct Stats {
    samples: Mutex<Samples>,
    errors: AtomicU64,
    /// Answered promptly with UNAVAILABLE because the node was busy (load shedding).
    busy: AtomicU64,
    done: AtomicU64,
}

/// Each request's time, kept under one lock.
#[derive(Default)]
struct Samples {
    latencies_us: Vec<u64>,
    by_operation: std::collections::BTreeMap<&'static str, Vec<u64>>,
    /// Latencies of the requests that were served, and of those turned away.
    served_us: Vec<u64>,
    busy_us: Vec<u64>,
    /// When each `requestSupport` ended and how long it took, for `LOAD_TIMELINE`.
    writes_at: Vec<(Instant, u64)>,
}

async fn one(http: &http::Client, (token, body, operation): Call<'_>, stats: &Stats) {
    let started = Instant::now();
    // Some(true) served, Some(false) turned away as busy, None failed. An answer is parsed
    // only when it holds errors: the client shares the node's processors.
    let served = match http.post(token, body).await {
        Ok(r) if r.status == 200 && !contains(&r.body, b"\"errors\"") => Some(true),
        Ok(r) if r.status == 200 => match serde_json::from_slice::<Value>(&r.body) {
            Ok(v) if v.get("errors").is_none() => Some(true),
            Ok(v) if v["errors"][0]["extensions"]["code"] == "UNAVAILABLE" => Some(false),
            Ok(v) => {
                // The first few errors, with their code, so a run says what failed.
                if stats.errors.load(Ordering::Relaxed) < 3 {
                    eprintln!("    {operation} failed: {}", v["errors"][0]);
                }
                None
            }
            Err(_) => None,
        },
        // Turned away at the door (max_in_flight).
        Ok(r) if r.status == 503 => serde_json::from_slice::<Value>(&r.body)
            .is_ok_and(|v| v["code"] == "UNAVAILABLE")
            .then_some(false),
        other => {
            if stats.errors.load(Ordering::Relaxed) < 3 {
                eprintln!(
                    "    {operation} failed: {:?}",
                    other.map(|r| (r.status, String::from_utf8_lossy(&r.body).into_owned()))
                );
            }
            None
        }
    };
    let us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    let ended = Instant::now();
    let mut samples = stats.samples.lock().unwrap();
    match served {
        Some(true) => samples.served_us.push(us),
        Some(false) => {
            stats.busy.fetch_add(1, Ordering::Relaxed);
            samples.busy_us.push(us);
        }
        None => {
            stats.errors.fetch_add(1, Ordering::Relaxed);
        }
    }
    samples.latencies_us.push(us);
    if operation == "requestSupport" {
        samples.writes_at.push((ended, us));
    }
    samples.by_operation.entry(operation).or_default().push(us);
    drop(samples);
    stats.done.fetch_add(1, Ordering::Relaxed);
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// A request of a measured phase: its bearer, its body and the operation it runs.
type Call<'a> = (&'a str, &'a [u8], &'static str);

/// Members 0..READERS read their own requests (one each, as a person in the program has one or
/// two); the rest make the new requests. Were the same people to do both, each would have 100+
/// requests after a minute at 100 new requests a second, and "my requests" would measure a list
/// nobody has.
const READERS: usize = 40;

fn request_body(i: u64, fx: &Fixture, write_share: u64) -> Call<'_> {
    let readers = READERS.min(fx.members.len() - 1);
    let m = &fx.members[(i as usize) % readers];
    if i % 100 < write_share {
        if i.is_multiple_of(2) || fx.accepted.is_empty() {
            let writer = &fx.members[readers + (i as usize) % (fx.members.len() - readers)];
            (writer, &fx.new_request, "requestSupport")
        } else {
            let a = (i as usize / 2) % fx.accepted.len();
            (&fx.accepted[a].0, &fx.encounters[a], "recordEncounter")
        }
    } else {
        let r = (i as usize) % READS.len();
        (m, &fx.reads[r], READ_OPERATIONS[r])
    }
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

fn report(label: &str, stats: &Stats, secs: f64, pid: Option<u32>) {
    let mut samples = stats.samples.lock().unwrap();
    let mut l = samples.latencies_us.clone();
    l.sort_unstable();
    let done = stats.done.load(Ordering::Relaxed);
    let rss = pid
        .map(|p| format!(", node peak RSS {:.1} MiB", vm(p, "VmHWM:") as f64 / 1024.0))
        .unwrap_or_default();
    println!(
        "{label}: {done} requests in {secs:.1} s = {:.0}/s, p50 {:.2} ms, p99 {:.2} ms, errors {}{rss}",
        done as f64 / secs,
        percentile(&l, 0.5),
        percentile(&l, 0.99),
        stats.errors.load(Ordering::Relaxed),
    );
    let busy = stats.busy.load(Ordering::Relaxed);
    if busy > 0 {
        let mut served = samples.served_us.clone();
        served.sort_unstable();
        let mut away = samples.busy_us.clone();
        away.sort_unstable();
        println!(
            "    turned away as busy (UNAVAILABLE): {busy}, p50 {:.2} ms, p99 {:.2} ms; the {} served: {:.0}/s, p50 {:.2} ms, p99 {:.2} ms",
            percentile(&away, 0.5),
            percentile(&away, 0.99),
            served.len(),
            served.len() as f64 / secs,
            percentile(&served, 0.5),
            percentile(&served, 0.99)
        );
    }
    for (op, l) in samples.by_operation.iter_mut() {
        l.sort_unstable();
        println!(
            "    {op}: {} requests, p50 {:.2} ms, p99 {:.2} ms",
            l.len(),
            percentile(l, 0.5),
            percentile(l, 0.99)
        );
    }
    // LOAD_TIMELINE=N: requestSupport's latency in windows of N seconds, to tell a steady tail
    // from bursts (a checkpoint, a sweep, a background job).
    let window: u64 = std::env::var("LOAD_TIMELINE")
        .ok()
        .and_then(|w| w.parse().ok())
        .unwrap_or(0);
    let writes = &samples.writes_at;
    if let (true, Some(first)) = (window > 0, writes.iter().map(|w| w.0).min()) {
        // The wall-clock start, so that readings taken beside the run (scripts/write-tail-seconds.sh)
        // line up with the windows.
        let started = std::time::SystemTime::now()
            .checked_sub(first.elapsed())
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .unwrap_or_default();
        println!(
            "    requestSupport windows start at unix time {:.3}",
            started.as_secs_f64()
        );
        let mut windows: std::collections::BTreeMap<u64, Vec<u64>> = Default::default();
        for (at, us) in writes.iter() {
            let w = at.duration_since(first).as_secs() / window;
            windows.entry(w).or_default().push(*us);
        }
        for (w, l) in windows.iter_mut() {
            l.sort_unstable();
            // How many of the run's slowest the window holds: the issue's bound is 10 ms.
            let over = l.iter().filter(|us| **us > 10_000).count();
            println!(
                "    requestSupport {:>3}–{:>3} s: {} requests, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms, over 10 ms {over}",
                w * window,
                (w + 1) * window,
                l.len(),
                percentile(l, 0.5),
                percentile(l, 0.99),
                percentile(l, 1.0)
            );
        }
        // The first window holds many of a run's slowest writes, with or without LOAD_WARMUP:
        // the rest apart, to tell a start from a steady tail.
        let mut after: Vec<u64> = windows
            .range(1..)
            .flat_map(|(_, l)| l.iter().copied())
            .collect();
        after.sort_unstable();
        println!(
            "    requestSupport after the first window: {} requests, p50 {:.2} ms, p99 {:.2} ms",
            after.len(),
            percentile(&after, 0.5),
            percentile(&after, 0.99)
        );
    }
}

/// As fast as `CONNECTIONS` workers go.
async fn closed_loop(
    url: &str,
    fx: Arc<Fixture>,
    write_share: u64,
    secs: u64,
) -> (Arc<Stats>, f64) {
    let stats = Arc::new(Stats::default());
    let counter = Arc::new(AtomicU64::new(0));
    let end = Instant::now() + Duration::from_secs(secs);
    let started = Instant::now();
    let http = Arc::new(http::Client::new(url));
    let mut tasks = Vec::new();
    for _ in 0..CONNECTIONS {
        let (stats, counter, fx, http) = (stats.clone(), counter.clone(), fx.clone(), http.clone());
        tasks.push(tokio::spawn(async move {
            while Instant::now() < end {
                let i = counter.fetch_add(1, Ordering::Relaxed);
                one(&http, request_body(i, &fx, write_share), &stats).await;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    (stats, started.elapsed().as_secs_f64())
}

/// At a fixed rate, whatever the latency (open loop). The client opens connections as the
/// phase needs them.
async fn open_loop(
    http: &Arc<http::Client>,
    fx: Arc<Fixture>,
    rate: u64,
    write_share: u64,
    secs: u64,
) -> (Arc<Stats>, f64) {
    let stats = Arc::new(Stats::default());
    let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / rate));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..rate * secs {
        tick.tick().await;
        let (stats, fx, http) = (stats.clone(), fx.clone(), http.clone());
        tasks.push(tokio::spawn(async move {
            one(&http, request_body(i, &fx, write_share), &stats).await;
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    (stats, started.elapsed().as_secs_f64())
}

fn count_dir(path: String) -> usize {
    std::fs::read_dir(path).map(|d| d.count()).unwrap_or(0)
}

/// The mixed workload at `LOAD_SOAK_RATE` (default 300/s) for `LOAD_SOAK_SECS` (default 600),
/// with the node's resident memory, open files and threads every minute: they should level off,
/// not climb.
async fn soak(url: &str, fx: Arc<Fixture>, pid: u32) {
    let env = |k: &str, d: u64| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let (rate, secs) = (env("LOAD_SOAK_RATE", 300), env("LOAD_SOAK_SECS", 600));
    println!("soak: mixed 80/20 at {rate}/s for {secs} s");
    let sample = move |at: u64| {
        println!(
            "  t={at:>4} s  RSS {:.1} MiB  open files {}  threads {}",
            vm(pid, "VmRSS:") as f64 / 1024.0,
            count_dir(format!("/proc/{pid}/fd")),
            count_dir(format!("/proc/{pid}/task")),
        );
    };
    sample(0);
    let minutes = secs.div_ceil(60);
    let mut total = Stats::default();
    for m in 0..minutes {
        let (stats, _) = open_loop(
            &Arc::new(http::Client::new(url)),
            fx.clone(),
            rate,
            20,
            60.min(secs - m * 60),
        )
        .await;
        sample(((m + 1) * 60).min(secs));
        total
            .done
            .fetch_add(stats.done.load(Ordering::Relaxed), Ordering::Relaxed);
        total
            .errors
            .fetch_add(stats.errors.load(Ordering::Relaxed), Ordering::Relaxed);
        total
            .busy
            .fetch_add(stats.busy.load(Ordering::Relaxed), Ordering::Relaxed);
        let mut minute = stats.samples.lock().unwrap();
        let all = total.samples.get_mut().unwrap();
        all.latencies_us.append(&mut minute.latencies_us);
        all.served_us.append(&mut minute.served_us);
        all.busy_us.append(&mut minute.busy_us);
    }
    report("soak", &total, secs as f64, Some(pid));
}

fn ceiling_server(port: u16) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        actix_web::HttpServer::new(|| {
            actix_web::App::new().route(
                "/graphql",
                actix_web::web::post().to(|| async {
                    actix_web::HttpResponse::Ok().json(json!({ "data": { "ok": true } }))
                }),
            )
        })
        .workers(2)
        .bind(("127.0.0.1", port))
        .unwrap()
        .run()
        .await
        .unwrap();
    });
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("ceiling") {
        let port = args[2].parse().unwrap();
        std::thread::spawn(move || ceiling_server(port))
            .join()
            .unwrap();
        return;
    }
    // reqwest is built without a default TLS provider; plain HTTP still needs one installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let secs: u64 = std::env::var("LOAD_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let database = std::env::var("LOAD_DATABASE_URL").ok();
    let backend = if database.is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let node = start_node(database.as_deref()).await;
    create_admin(&node, database.as_deref());
    let client = Client {
        http: reqwest::Client::new(),
        base: node.base.clone(),
    };
    let fx = Arc::new(load_data(&client).await);
    let url = format!("{}/graphql", node.base);
    let pid = node.child.id();
    println!(
        "{backend}: {} members, {} accepted requests for encounters, {CONNECTIONS} connections, {secs} s per phase",
        fx.members.len(),
        fx.accepted.len()
    );

    if std::env::var("LOAD_ONLY").as_deref() == Ok("soak") {
        soak(&url, fx.clone(), pid).await;
        return;
    }
    // LOAD_ONLY=read|mixed|closed|ceiling runs one phase; soak runs only the soak.
    let only = std::env::var("LOAD_ONLY").ok();
    let run = |phase: &str| only.as_deref().is_none_or(|o| o == phase);
    if run("read") {
        let (stats, took) = closed_loop(&url, fx.clone(), 0, secs).await;
        report(
            &format!("{backend} read mix, closed loop"),
            &stats,
            took,
            Some(pid),
        );
    }
    if run("mixed") {
        let rate: u64 = std::env::var("LOAD_RATE")
            .ok()
            .and_then(|r| r.parse().ok())
            .unwrap_or(1000);
        let http = Arc::new(http::Client::new(&url));
        // LOAD_WARMUP=N: N seconds of the same load first, not counted, so that the phase
        // measured starts with the client's connections open (by default it opens them in its
        // first second, as it always has).
        let warmup: u64 = std::env::var("LOAD_WARMUP")
            .ok()
            .and_then(|w| w.parse().ok())
            .unwrap_or(0);
        if warmup > 0 {
            let (stats, took) = open_loop(&http, fx.clone(), rate, 20, warmup).await;
            report(
                &format!("{backend} warm-up at {rate}/s, not counted"),
                &stats,
                took,
                None,
            );
        }
        let (stats, took) = open_loop(&http, fx.clone(), rate, 20, secs).await;
        report(
            &format!("{backend} mixed 80/20 at {rate}/s"),
            &stats,
            took,
            Some(pid),
        );
    }
    if run("closed") {
        let (stats, took) = closed_loop(&url, fx.clone(), 20, secs).await;
        report(
            &format!("{backend} mixed 80/20, closed loop"),
            &stats,
            took,
            Some(pid),
        );
    }
    drop(node);
    if !run("ceiling") {
        return;
    }

    // The ceiling: the same generator against a trivial actix-web JSON route.
    let port = free_port();
    let mut ceiling = Command::new(std::env::current_exe().unwrap())
        .args(["ceiling", &port.to_string()])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (stats, took) = closed_loop(
        &format!("http://127.0.0.1:{port}/graphql"),
        fx.clone(),
        0,
        secs,
    )
    .await;
    report(
        "ceiling: trivial actix-web JSON route, closed loop",
        &stats,
        took,
        None,
    );
    let _ = ceiling.kill();
    let _ = ceiling.wait();
}
