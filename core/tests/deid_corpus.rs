//! The de-identification gate against its corpus (`deid_corpus.txt`): every identifier found,
//! every ordinary text left alone.
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
    for line in corpus
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let mut parts = line.splitn(3, '\t');
        let (expect, k, text) = (
            parts.next().unwrap(),
            parts.next().unwrap(),
            parts.next().unwrap(),
        );
        cases += 1;
        let found = scan(text);
        match expect {
            "block" => match found.first() {
                Some((got, _)) if *got == kind(k) => {}
                other => failures.push(format!("should find {k} in {text:?}, found {other:?}")),
            },
            "allow" => {
                if !found.is_empty() {
                    failures.push(format!("should allow {text:?}, found {found:?}"));
                }
            }
            other => panic!("bad expectation {other}"),
        }
    }
    assert!(
        cases >= 100,
        "the corpus has {cases} cases; keep at least 100"
    );
    assert!(
        failures.is_empty(),
        "{} of {cases} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
