//! The language of an API caller, for the words the API gives people (readiness questions, the
//! human message of an error): the one in their profile, then the `Accept-Language` header's.
//! Error codes stay English for programs. The profile is read only when words are needed, so
//! the common request pays nothing for it.

use actix_web::http::header::{ACCEPT_LANGUAGE, HeaderMap};
use alongside_core::access::Principal;
use alongside_core::db::Db;
use alongside_core::i18n::{Catalogue, Locale, reader_language};
use alongside_core::people;
use uuid::Uuid;

/// The person behind a request, if a person signed in: all that choosing their language needs,
/// kept without copying the principal on every request.
#[derive(Debug, Clone, Copy)]
pub struct Caller(Option<Uuid>);

impl Caller {
    pub fn of(who: &Principal) -> Self {
        match who {
            Principal::User(user) => Self(Some(user.person_id)),
            _ => Self(None),
        }
    }
}

/// What a request tells of its caller's language before their profile is read.
#[derive(Debug, Clone, Copy)]
pub struct Language {
    /// The node's words: the shipped catalogue with the institution's own wording.
    pub words: &'static Catalogue,
    accept: Option<Locale>,
}

impl Language {
    pub fn of(headers: &HeaderMap, words: &'static Catalogue) -> Self {
        let accept = headers
            .get(ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(Locale::negotiate);
        Self { words, accept }
    }

    /// The caller's language when one is known: their profile's, then the header's (core's
    /// `reader_language`). A profile that cannot be read (database down) falls back to the
    /// header rather than failing the answer it would only translate.
    pub async fn known(&self, db: &Db, who: &Principal) -> Option<Locale> {
        self.choose(db, Caller::of(who), None).await
    }

    /// The same for a caller noted before their principal was handed on.
    pub async fn known_for(&self, db: &Db, caller: Caller) -> Option<Locale> {
        self.choose(db, caller, None).await
    }

    /// The caller's language, falling back to `default` (the institution's) when neither
    /// their profile nor the header names one.
    pub async fn choose(&self, db: &Db, caller: Caller, default: Option<Locale>) -> Option<Locale> {
        let profile = match caller.0 {
            Some(person) => people::own_locale(db, person).await.ok().flatten(),
            None => None,
        };
        reader_language(profile, self.accept, default)
    }

    /// The header's language alone, for a caller not known yet (a refused token).
    pub fn accepted(&self) -> Option<Locale> {
        self.accept
    }
}
