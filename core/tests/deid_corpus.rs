//! The de-identification gate against its corpus (`deid_corpus.txt`): every identifier found,
//! every ordinary text left alone, and every one of the eighteen HIPAA Safe Harbor categories
//! tried.
#![allow(clippy::unwrap_used, clippy::panic)]

use alongside_core::deid::{Kind, scan};

fn kind(name: &str) -> Kind {
    serde_json::from_value(serde_json::Value::String(name.to_owned()))
        .unwrap_or_else(|_| panic!("unknown kind {name}"))
}

#[test]
fn corpus() {
    let corpus = include_str!("deid_corpus.txt");
    let mut failures = vec![];
    let mut cases = 0;
    let mut allowed = 0;
    // Blocked cases under each "## N. category" heading.
    let mut categories = [0usize; 19];
    let mut category = 0;
    for line in corpus.lines() {
        if let Some(heading) = line.strip_prefix("## ") {
            category = heading
                .split('.')
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            continue;
        }
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let mut parts = line.splitn(3, '\t');
        let (expect, k, text) = (
            parts.next().unwrap(),
            parts.next().unwrap(),
            parts.next().unwrap(),
        );
        cases += 1;
        if expect == "block" {
            categories[category] += 1;
        }
        let found = scan(text);
        match expect {
            "block" => match found.first() {
                _ if category == 0 => panic!("a blocked case outside a category: {text:?}"),
                Some((got, _)) if *got == kind(k) => {}
                other => failures.push(format!("should find {k} in {text:?}, found {other:?}")),
            },
            "allow" => {
                allowed += 1;
                if !found.is_empty() {
                    failures.push(format!("should allow {text:?}, found {found:?}"));
                }
            }
            other => panic!("bad expectation {other}"),
        }
    }
    assert!(
        cases >= 200 && allowed * 2 >= cases,
        "the corpus has {cases} cases, {allowed} of them clean; keep at least 200, half clean"
    );
    let thin: Vec<usize> = (1..=18).filter(|&n| categories[n] < 3).collect();
    assert!(
        thin.is_empty(),
        "Safe Harbor categories with fewer than three blocked cases: {thin:?}"
    );
    assert!(
        failures.is_empty(),
        "{} of {cases} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
