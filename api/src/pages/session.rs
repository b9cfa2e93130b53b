//! The browser's side of a session: the cookie, the CSRF token bound to it, and the same-origin
//! check every form post passes. Who may do what is still decided in core.

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use alongside_core::secrets;

use crate::node::AppState;

/// The cookie's name. Browsers accept the `__Host-` prefix only on a `Secure` cookie, so a node
/// served over plain http (development on loopback) uses the plain name.
pub fn cookie_name(state: &AppState) -> &'static str {
    if secure(state) {
        "__Host-alongside"
    } else {
        "alongside"
    }
}

/// Whether the node's public URL is https (then the cookie is `Secure`).
pub fn secure(state: &AppState) -> bool {
    state.tokens.settings().issuer.starts_with("https://")
}

/// The session token the browser sent, if any.
pub fn token_of(req: &HttpRequest, state: &AppState) -> Option<String> {
    req.cookie(cookie_name(state))
        .map(|c| c.value().to_owned())
        .filter(|v| !v.is_empty() && v.len() <= 128)
}

/// The cookie that carries a new session.
pub fn session_cookie(state: &AppState, token: &str, max_age_secs: i64) -> Cookie<'static> {
    Cookie::build(cookie_name(state), token.to_owned())
        .path("/")
        .http_only(true)
        .secure(secure(state))
        .same_site(SameSite::Lax)
        .max_age(CookieDuration::seconds(max_age_secs))
        .finish()
}

/// The cookie that removes the session from the browser.
pub fn removal_cookie(state: &AppState) -> Cookie<'static> {
    let mut c = session_cookie(state, "", 0);
    c.make_removal();
    c
}

/// The CSRF token of a session: derived from the session's secret token, so it needs no storage,
/// changes with every session and cannot be computed by anyone who lacks the cookie.
pub fn csrf_for(session_token: &str) -> String {
    secrets::sha256_hex(&format!("alongside-csrf:{session_token}"))
}

/// Whether a form post's token matches the session.
pub fn csrf_ok(session_token: &str, submitted: Option<&str>) -> bool {
    submitted.is_some_and(|s| secrets::constant_time_eq(&csrf_for(session_token), s))
}

/// The node's own origin (`scheme://host[:port]`), from its public URL.
pub fn own_origin(state: &AppState) -> String {
    let issuer = state.tokens.settings().issuer.trim_end_matches('/');
    match issuer.find("://") {
        Some(i) => match issuer[i + 3..].find('/') {
            Some(j) => issuer[..i + 3 + j].to_owned(),
            None => issuer.to_owned(),
        },
        None => issuer.to_owned(),
    }
}

/// A form post must come from the node's own pages: a browser says where a request comes from
/// in `Sec-Fetch-Site` and `Origin`; either one naming another site refuses it.
pub fn same_origin(req: &HttpRequest, state: &AppState) -> bool {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = header("sec-fetch-site")
        && !matches!(site, "same-origin" | "none")
    {
        return false;
    }
    match header("origin") {
        Some(origin) => origin == own_origin(state),
        None => true,
    }
}

/// A local path to return to after signing in; anything else (another site, a protocol-relative
/// `//host`) falls back to the start page.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && n.len() <= 512
                && !n.chars().any(char::is_control) =>
        {
            n.to_owned()
        }
        _ => "/".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_returned_to() {
        assert_eq!(safe_next(Some("/requests/1")), "/requests/1");
        assert_eq!(safe_next(Some("//evil.example/x")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn csrf_tokens_belong_to_one_session() {
        let t = csrf_for("session-a");
        assert!(csrf_ok("session-a", Some(&t)));
        assert!(!csrf_ok("session-b", Some(&t)));
        assert!(!csrf_ok("session-a", None));
        assert!(!csrf_ok("session-a", Some("")));
    }
}
