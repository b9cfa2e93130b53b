//! Parsed GraphQL documents, kept by their text: a partner app sends the same few documents
//! again and again, and parsing one (async-graphql's parser is built on pest) was 7.5% of the
//! node's CPU time serving a 20-row list (docs/performance.md). A parsed document depends on
//! its text alone, so one kept copy serves every caller; the limits on depth and directives
//! and the validation against the schema still run on every request, after this.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex, PoisonError};

use async_graphql::Request;
use async_graphql::parser::types::ExecutableDocument;

/// Documents kept at most, and their texts' bytes together: when either would be passed, all
/// are forgotten and the ones in use come back at once. A parsed document takes several times
/// its text's size, so callers sending many different documents keep at most a few MiB here.
const CAPACITY: usize = 256;
const BUDGET: usize = 256 * 1024;

/// Longer texts are parsed each time: they are rare.
const LONGEST: usize = 8 * 1024;

#[derive(Default)]
struct Kept {
    documents: HashMap<String, ExecutableDocument>,
    bytes: usize,
}

impl Kept {
    fn get(&self, text: &str) -> Option<ExecutableDocument> {
        self.documents.get(text).cloned()
    }

    fn keep(&mut self, text: &str, doc: &ExecutableDocument) {
        if self.documents.len() >= CAPACITY || self.bytes + text.len() > BUDGET {
            *self = Kept::default();
        }
        if self
            .documents
            .insert(text.to_owned(), doc.clone())
            .is_none()
        {
            self.bytes += text.len();
        }
    }
}

static DOCUMENTS: LazyLock<Mutex<Kept>> = LazyLock::new(Mutex::default);

/// Hands the request its parsed document, from the cache or parsed now (and kept). A text that
/// does not parse is left alone: the executor names the syntax error.
pub fn prepare(request: &mut Request) {
    if request.query.len() > LONGEST {
        return;
    }
    let kept = DOCUMENTS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&request.query);
    if let Some(doc) = kept {
        request.set_parsed_query(doc);
        return;
    }
    let Ok(doc) = async_graphql::parser::parse_query(&request.query) else {
        return;
    };
    DOCUMENTS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .keep(&request.query, &doc);
    request.set_parsed_query(doc);
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_kept_document_is_the_one_parsed_from_its_text() {
        let text = "query Kept($n: Int) { peerSupporters(first: $n) { edges { node { id } } } }";
        let mut first = Request::new(text);
        prepare(&mut first);
        let mut second = Request::new(text);
        prepare(&mut second);
        let parsed = async_graphql::parser::parse_query(text).unwrap();
        // The second came from the cache: same operations, same selections, same positions.
        assert_eq!(
            format!("{:?}", second.parsed_query().unwrap()),
            format!("{parsed:?}")
        );
        assert!(DOCUMENTS.lock().unwrap().documents.contains_key(text));
    }

    #[test]
    fn text_that_does_not_parse_is_left_to_the_executor() {
        let text = "{ peerSupporters(first: 2) { edges { node { id } }";
        let mut request = Request::new(text);
        prepare(&mut request);
        assert!(!DOCUMENTS.lock().unwrap().documents.contains_key(text));
        assert!(request.parsed_query().is_err());
    }

    #[test]
    fn long_texts_are_not_kept() {
        let text = format!("{{ __typename {} }}", " ".repeat(LONGEST));
        let mut request = Request::new(text.clone());
        prepare(&mut request);
        assert!(!DOCUMENTS.lock().unwrap().documents.contains_key(&text));
        assert!(request.parsed_query().is_ok());
    }

    #[test]
    fn what_is_kept_stays_within_its_budget() {
        let mut kept = Kept::default();
        let doc = async_graphql::parser::parse_query("{ __typename }").unwrap();
        for i in 0..(BUDGET / 4000 + 8) {
            let text = format!("{{ __typename }}# {i} {}", " ".repeat(4000));
            kept.keep(&text, &doc);
            kept.keep(&text, &doc);
            assert!(kept.bytes <= BUDGET && kept.documents.len() <= CAPACITY);
            assert_eq!(
                kept.bytes,
                kept.documents.keys().map(String::len).sum::<usize>()
            );
            assert!(kept.get(&text).is_some());
        }
        for i in 0..CAPACITY + 8 {
            kept.keep(&format!("{{ __typename }}# {i}"), &doc);
            assert!(kept.documents.len() <= CAPACITY);
        }
    }
}
