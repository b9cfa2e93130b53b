//! Outbox figures for docs/performance.md: throughput (messages per second delivered to a local
//! SMTP sink by one worker), and a long SMTP outage (rows queued while every delivery fails, and
//! the worker's memory meanwhile). Loopback only; bounded in count and time.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use alongside_api::delivery::Worker;
use alongside_core::notify::outbox;
use alongside_core::notify::templates::{Topic, Vars};
use alongside_tests::TestNode;
use alongside_tests::smtp::{SmtpSink, free_port};

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

async fn node(port: u16) -> TestNode {
    TestNode::spawn_with(|c| {
        c.email.transport = "smtp".into();
        c.email.smtp.host = "127.0.0.1".into();
        c.email.smtp.port = port;
        c.email.smtp.tls = "none".into();
        c.outbox.batch_size = 50;
        c.outbox.backoff_base_ms = 1;
        c.outbox.backoff_max_secs = 1;
        c.outbox.max_attempts = 1_000_000;
    })
    .await
}

async fn enqueue(node: &TestNode, n: usize, tag: &str) {
    let db = node.state.db.clone();
    let tag = tag.to_owned();
    tokio::task::spawn_blocking(move || {
        use diesel::Connection;
        let mut conn = db.get().unwrap();
        conn.transaction(|c| {
            for i in 0..n {
                outbox::enqueue_email(
                    c,
                    Topic::Offer,
                    &format!("s{i}@hospital.test"),
                    &format!("{tag}:{i}"),
                    &Vars::default(),
                )?;
            }
            Ok::<_, alongside_core::CoreError>(())
        })
        .unwrap();
    })
    .await
    .unwrap();
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let backend = if std::env::var("ALONGSIDE_TEST_DATABASE_URL").is_ok() {
        "postgres"
    } else {
        "sqlite"
    };

    // 1. Throughput.
    let sink = SmtpSink::start();
    let up = node(sink.port).await;
    let n = 2_000;
    enqueue(&up, n, "throughput").await;
    let worker = Worker::new(up.state.clone()).unwrap();
    let start = Instant::now();
    while sink.mails().len() < n && start.elapsed() < Duration::from_secs(300) {
        worker.deliver_batch().await.unwrap();
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{backend}: delivered {} messages to a local SMTP sink in {secs:.2} s = {:.0} messages/s",
        sink.mails().len(),
        sink.mails().len() as f64 / secs
    );

    // 2. SMTP down: queue grows in the database, not in memory.
    let down = node(free_port()).await;
    let queued = 100_000;
    let start = Instant::now();
    enqueue(&down, queued, "outage").await;
    println!(
        "{backend}: queued {queued} messages in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    let worker = Worker::new(down.state.clone()).unwrap();
    let before = rss_kib();
    let start = Instant::now();
    let mut attempts = 0;
    let mut samples = vec![];
    while start.elapsed() < Duration::from_secs(40) {
        attempts += worker.deliver_batch().await.unwrap();
        if start.elapsed().as_secs() / 5 > samples.len() as u64 {
            samples.push(rss_kib());
        }
    }
    println!(
        "{backend}: SMTP down, {attempts} failed delivery attempts in 40 s over {queued} queued rows; process RSS {before} KiB before, every 5 s: {samples:?} KiB"
    );
}
