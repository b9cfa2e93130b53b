//! Parsed GraphQL documents, kept by their text: a partner app sends the same few documents
//! again and again, and parsing one (async-graphql's parser is built on pest) was 7.5% of the
//! node's CPU time serving a 20-row list (docs/performance.md). A parsed document depends on
//! its text alone, so one kept copy serves every caller; the limits on depth and directives
//! and the validation against the schema still run on every request, after this.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex, PoisonError};

use async_graphql::Request;
use async_graphql::parser::types::ExecutableDocument;

/// Documents kept at most; when full, all are forgotten and the ones in use come back at once.
const CAPACITY: usize = 256;

/// Longer texts are parsed each time: they are rare, and a cache of them could be made large.
const LONGEST: usize = 8 * 1024;

static DOCUMENTS: LazyLock<Mutex<HashMap<String, ExecutableDocument>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// Hands the request its parsed document, from the cache or parsed now (and kept). A text that
/// does not parse is left alone: the executor names the syntax error.
pub fn prepare(request: &mut Request) {
    if request.query.len() > LONGEST {
        return;
    }
    let kept = DOCUMENTS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&request.query)
        .cloned();
    if let Some(doc) = kept {
        request.set_parsed_query(doc);
        return;
    }
    let Ok(doc) = async_graphql::parser::parse_query(&request.query) else {
        return;
    };
    {
        let mut documents = DOCUMENTS.lock().unwrap_or_else(PoisonError::into_inner);
        if documents.len() >= CAPACITY {
            documents.clear();
        }
        documents.insert(request.query.clone(), doc.clone());
    }
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
        assert!(DOCUMENTS.lock().unwrap().contains_key(text));
    }

    #[test]
    fn text_that_does_not_parse_is_left_to_the_executor() {
        let text = "{ peerSupporters(first: 2) { edges { node { id } }";
        let mut request = Request::new(text);
        prepare(&mut request);
        assert!(!DOCUMENTS.lock().unwrap().contains_key(text));
        assert!(request.parsed_query().is_err());
    }

    #[test]
    fn long_texts_are_not_kept() {
        let text = format!("{{ __typename {} }}", " ".repeat(LONGEST));
        let mut request = Request::new(text.clone());
        prepare(&mut request);
        assert!(!DOCUMENTS.lock().unwrap().contains_key(&text));
        assert!(request.parsed_query().is_ok());
    }
}
