//! The node's own pages for the people it serves: server-rendered HTML from templates checked at
//! compile time (askama), text from the message catalogues, CSS embedded in the binary. Every
//! page works without JavaScript. Handlers translate forms into the same core use cases as
//! GraphQL and REST; they decide nothing.

mod acknowledge;
mod assets;
mod availability;
mod care;
mod colleague;
mod console;
pub mod demo;
mod form;
mod handoff;
mod introduction;
mod language;
mod member;
mod outside;
mod public;
pub mod session;
mod sign_in;
mod sso;
mod supporter;
mod survey;
mod view;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use alongside_core::CoreError;
use alongside_core::access::{Principal, Role, UserPrincipal};
use alongside_core::i18n::{Arg, Catalogue, Locale};
use alongside_core::sessions::{self, Ended};
use askama::Template;

use crate::node::AppState;

pub use assets::stylesheet_path;

/// The pages' Content-Security-Policy: nothing from another origin, no inline script or style.
pub const CSP: &str = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/assets/{name}", web::get().to(assets::asset))
        .route("/", web::get().to(public::home))
        .route("/privacy", web::get().to(public::privacy))
        .route("/sign-in", web::get().to(sign_in::form_page))
        .route("/sign-in", web::post().to(sign_in::with_password))
        .route("/sign-in/link", web::post().to(sign_in::request_link))
        .route("/sign-in/token", web::post().to(sign_in::with_link))
        .route("/sign-in/sso", web::get().to(sso::start))
        .route("/sign-in/sso/callback", web::get().to(sso::callback))
        .route("/sign-out", web::post().to(sign_in::sign_out))
        .route(
            "/sign-out/everywhere",
            web::post().to(sign_in::sign_out_everywhere),
        )
        .route("/talk", web::get().to(member::talk_page))
        .route("/talk", web::post().to(member::talk_submit))
        .route("/handoff", web::get().to(handoff::show))
        .route("/handoff", web::post().to(handoff::submit))
        .route("/colleague", web::get().to(colleague::show))
        .route("/colleague", web::post().to(colleague::submit))
        .route("/requests", web::get().to(member::my_requests))
        .route("/requests/{id}", web::get().to(member::request_page))
        .route("/requests/{id}/withdraw", web::post().to(member::withdraw))
        .route("/requests/{id}/close", web::post().to(member::close))
        .route("/requests/{id}/outside", web::post().to(outside::search))
        .route(
            "/requests/{id}/outside/introduce",
            web::post().to(outside::introduce),
        )
        .route(
            "/support/introductions/{id}",
            web::post().to(outside::answer_introduction),
        )
        .route(
            "/support/introductions/{id}",
            web::get().to(introduction::show),
        )
        .route(
            "/support/introductions/{id}/conversation",
            web::post().to(introduction::record_conversation),
        )
        .route(
            "/support/introductions/{id}/close",
            web::post().to(introduction::close),
        )
        .route(
            "/outreach/{id}/decline",
            web::post().to(member::decline_outreach),
        )
        .route("/outreach/{id}/stop", web::post().to(member::stop_outreach))
        .route("/support", web::get().to(supporter::home))
        .route(
            "/support/offers/{id}",
            web::post().to(supporter::answer_offer),
        )
        .route("/support/requests/{id}", web::get().to(care::show))
        .route(
            "/support/requests/{id}/encounter",
            web::post().to(care::record_encounter),
        )
        .route(
            "/support/requests/{id}/escalate",
            web::post().to(care::escalate),
        )
        .route(
            "/support/follow-ups/{id}",
            web::post().to(supporter::complete_follow_up),
        )
        .route("/support/availability", web::get().to(availability::show))
        .route("/support/availability", web::post().to(availability::save))
        .route(
            "/support/availability/pause",
            web::post().to(availability::pause),
        )
        .route(
            "/support/availability/texts",
            web::post().to(availability::texts),
        )
        .route("/language", web::post().to(language::choose))
        .route("/ack", web::get().to(acknowledge::show))
        .route("/ack", web::post().to(acknowledge::submit))
        .route("/survey", web::get().to(survey::show))
        .route("/survey", web::post().to(survey::submit))
        .route("/demo/as/{key}", web::get().to(demo::sign_in_as))
        .route("/console", web::get().to(console::queue::queue_page))
        .route(
            "/console/requests/{id}",
            web::get().to(console::queue::request_page),
        )
        .route(
            "/console/requests/{id}/{action}",
            web::post().to(console::queue::act),
        )
        .route(
            "/console/notifications",
            web::get().to(console::notifications::show),
        )
        .route(
            "/console/notifications/{id}/requeue",
            web::post().to(console::notifications::requeue),
        )
        .route("/console/audit", web::get().to(console::audit::show))
        .route(
            "/console/audit/check",
            web::post().to(console::audit::check),
        )
        .route("/console/programs", web::get().to(console::programs::show))
        .route("/console/programs", web::post().to(console::programs::save))
        .route("/console/settings", web::get().to(console::settings::show))
        .route(
            "/console/settings/{part}",
            web::post().to(console::settings::save),
        )
        .route(
            "/console/readiness",
            web::get().to(console::readiness::show),
        )
        .route(
            "/console/readiness",
            web::post().to(console::readiness::submit),
        )
        .route(
            "/console/business-case",
            web::get().to(console::business_case::show),
        )
        .route("/console/training", web::get().to(console::training::show))
        .route(
            "/console/training/{part}",
            web::post().to(console::training::save),
        )
        .route("/console/network", web::get().to(console::network::members))
        .route(
            "/console/network/members/{node}/{action}",
            web::post().to(console::network::act),
        )
        .route(
            "/console/network/check",
            web::post().to(console::network::check),
        )
        .route(
            "/console/network/metrics",
            web::get().to(console::network::metrics),
        )
        .route(
            "/console/network/directory",
            web::get().to(console::network::directory),
        )
        .route("/console/roster", web::get().to(console::roster::show))
        .route("/console/roster", web::post().to(console::roster::save))
        .route("/console/metrics", web::get().to(console::metrics::show))
        .route("/console/metrics.csv", web::get().to(console::metrics::csv))
        .route("/console/events", web::get().to(console::events::list))
        .route("/console/events", web::post().to(console::events::create))
        .route(
            "/console/events/new",
            web::get().to(console::events::new_form),
        )
        .route("/console/events/{id}", web::get().to(console::events::show))
        .route(
            "/console/events/{id}/milestones",
            web::post().to(console::events::add_milestone),
        )
        .route(
            "/console/events/{id}/close",
            web::post().to(console::events::close),
        )
        .route(
            "/console/outreach/{id}",
            web::post().to(console::events::mark_outreach),
        );
}

/// The text of one language, for a template.
#[derive(Debug, Clone, Copy)]
pub struct Text {
    pub locale: Locale,
    pub catalogue: &'static Catalogue,
}

impl Text {
    /// A message.
    pub fn t(&self, key: &str) -> String {
        self.catalogue.text(self.locale, key)
    }

    /// A message with one argument.
    pub fn t1(&self, key: &str, name: &str, value: impl Into<Arg>) -> String {
        self.catalogue
            .text_with(self.locale, key, &[(name, value.into())])
    }

    /// A date and time as this language writes it (month names from the catalogue), in UTC,
    /// which the text says.
    pub fn when(&self, t: chrono::NaiveDateTime) -> String {
        use chrono::Datelike;
        self.catalogue.text_with(
            self.locale,
            "date-time",
            &[
                // As text: a number argument could be formatted with grouping ("2,026").
                ("day", t.day().to_string().into()),
                ("month", self.t(&format!("month-{}", t.month())).into()),
                ("year", t.year().to_string().into()),
                ("time", t.format("%H:%M").to_string().into()),
            ],
        )
    }

    /// The label of a vocabulary value, e.g. `("state", "open")` → the message `state-open`.
    pub fn label(&self, family: &str, value: &str) -> String {
        self.t(&format!("{family}-{}", value.replace('_', "-")))
    }
}

/// What every page knows: the reader's language, who is signed in, the form token, and the
/// institution's crisis resources for the header.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub text: Text,
    pub user: Option<UserPrincipal>,
    /// The session's token is never shown; only its CSRF token goes into forms.
    session: Option<String>,
    pub csrf: String,
    pub institution: String,
    pub crisis: String,
    pub path: String,
    /// A session cookie that has just ended (expired or revoked): cleared on the way out.
    stale_cookie: bool,
    /// The session ended by time, not by signing out: the sign-in page says so.
    pub expired: bool,
    cookie_name: &'static str,
}

impl Ctx {
    pub fn lang(&self) -> &'static str {
        self.text.locale.tag()
    }

    pub fn t(&self, key: &str) -> String {
        self.text.t(key)
    }

    pub fn signed_in(&self) -> bool {
        self.user.is_some()
    }

    pub fn is_supporter(&self) -> bool {
        self.user
            .as_ref()
            .is_some_and(|u| u.roles.contains(&Role::PeerSupporter))
    }

    /// Whether core would let the reader do `op`: for what a page offers, never for what it
    /// does (core decides that again when it is done).
    pub fn may(&self, op: alongside_core::access::Operation) -> bool {
        alongside_core::access::authorize(&self.principal(), op).is_ok()
    }

    /// Whether the program's figures (metrics, readiness, the business case) are in the menu.
    pub fn may_see_figures(&self) -> bool {
        self.may(alongside_core::access::Operation::ViewAggregates)
    }

    /// Whether the console is in the menu: core's decision on working the queue.
    pub fn may_coordinate(&self) -> bool {
        self.may(alongside_core::access::Operation::CoordinateRequests)
    }

    /// Whether admin-only console pages are in the console's menu: core's decision.
    pub fn may_manage_accounts(&self) -> bool {
        alongside_core::access::authorize(
            &self.principal(),
            alongside_core::access::Operation::ManageAccounts,
        )
        .is_ok()
    }

    pub fn principal(&self) -> Principal {
        self.user
            .clone()
            .map(Principal::User)
            .unwrap_or(Principal::Anonymous)
    }

    pub fn stylesheet(&self) -> &'static str {
        stylesheet_path()
    }

    /// The crisis resources, with their phone numbers as tap-to-call links.
    pub fn crisis_pieces(&self) -> Vec<view::Piece> {
        view::phone_pieces(&self.crisis)
    }

    /// The languages a person may choose, in their own names, and whether each is the one shown.
    pub fn languages(&self) -> Vec<(&'static str, String, bool)> {
        Locale::ALL
            .iter()
            .map(|l| (l.tag(), l.own_name().to_owned(), *l == self.text.locale))
            .collect()
    }
}

/// Builds the context of a page request: resolves the session cookie and the language.
pub async fn ctx(req: &HttpRequest, state: &AppState) -> Result<Ctx, PageError> {
    let token = session::token_of(req, state);
    let (user, stale, expired) = match &token {
        Some(t) => match sessions::resolve(&state.db, t).await? {
            Ok(u) => (Some(u), false, false),
            Err(Ended::Expired) => (None, true, true),
            Err(Ended::Unknown) => (None, true, false),
        },
        None => (None, false, false),
    };
    let locale = locale_for(user.as_ref().and_then(|u| u.locale), req, state);
    let user = user.map(|u| u.principal);
    let institution = alongside_core::institution::get(&state.db, &Principal::Anonymous).await?;
    let session = if user.is_some() { token } else { None };
    Ok(Ctx {
        crisis: crisis_text(state.catalogue, locale, &institution.crisis_resources),
        text: Text {
            locale,
            catalogue: state.catalogue,
        },
        csrf: session
            .as_deref()
            .map(session::csrf_for)
            .unwrap_or_default(),
        session,
        user,
        institution: institution.name,
        path: req.path().to_owned(),
        stale_cookie: stale,
        expired,
        cookie_name: session::cookie_name(state),
    })
}

/// The crisis resources in the reader's language: the institution's own wording for it if it
/// gave one, the catalogue's translation while the institution keeps the shipped default, else
/// the institution's text as it wrote it.
fn crisis_text(c: &Catalogue, locale: Locale, institution: &str) -> String {
    if c.has(locale, "institution-crisis-resources") {
        return c.text(locale, "institution-crisis-resources");
    }
    if institution == alongside_core::institution::DEFAULT_CRISIS_RESOURCES {
        return c.text(locale, "crisis-resources-default");
    }
    institution.to_owned()
}

/// The reader's language (core decides the order): their profile's, the browser's, the
/// institution's default.
fn locale_for(profile: Option<Locale>, req: &HttpRequest, state: &AppState) -> Locale {
    let browser = req
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(Locale::negotiate);
    let default = Locale::parse(&state.config.node.default_language);
    alongside_core::i18n::reader_language(profile, browser, default).unwrap_or(Locale::En)
}

/// Why a page cannot be shown as asked.
#[derive(Debug)]
pub enum PageError {
    /// Not signed in (or the session ended): sign in, then come back here.
    SignIn {
        next: String,
        expired: bool,
    },
    /// A form post that did not come from this node's own page, or lacks the session's token.
    Forged,
    Core(CoreError),
}

impl From<CoreError> for PageError {
    fn from(e: CoreError) -> Self {
        PageError::Core(e)
    }
}

/// A federation error as a page error: core's own errors as they are, the network's as a
/// conflict (the page says it cannot be done now).
impl From<alongside_federation::FedError> for PageError {
    fn from(e: alongside_federation::FedError) -> Self {
        match e {
            alongside_federation::FedError::Core(c) => c.into(),
            other => CoreError::Conflict(other.to_string()).into(),
        }
    }
}

/// The signed-in person, or a trip to the sign-in page that returns here.
pub fn require_user(ctx: &Ctx) -> Result<UserPrincipal, PageError> {
    ctx.user.clone().ok_or_else(|| PageError::SignIn {
        next: ctx.path.clone(),
        expired: ctx.expired,
    })
}

/// Checks a form post: same origin, and (when signed in) the session's CSRF token.
fn check_post(
    req: &HttpRequest,
    state: &AppState,
    ctx: &Ctx,
    form: &form::Form,
) -> Result<(), PageError> {
    if !session::same_origin(req, state) {
        return Err(PageError::Forged);
    }
    if let Some(token) = &ctx.session
        && !session::csrf_ok(token, form.get("csrf"))
    {
        return Err(PageError::Forged);
    }
    Ok(())
}

/// A rendered page with the pages' headers.
pub fn html(ctx: &Ctx, status: StatusCode, body: Result<String, askama::Error>) -> HttpResponse {
    let body = match body {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(error = %e, "page template failed");
            return plain_error(ctx.text, StatusCode::INTERNAL_SERVER_ERROR);
        }
    };
    let mut res = HttpResponse::build(status);
    res.content_type("text/html; charset=utf-8")
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .insert_header((header::CONTENT_LANGUAGE, ctx.lang()))
        // With `no-referrer` a browser sends `Origin: null` on the pages' own form posts, which
        // the same-origin check must refuse; `same-origin` keeps both the check and privacy.
        .insert_header((header::REFERRER_POLICY, "same-origin"))
        .insert_header((header::VARY, "Cookie, Accept-Language"));
    if ctx.stale_cookie {
        res.cookie(removal_for(ctx));
    }
    res.body(body)
}

fn removal_for(ctx: &Ctx) -> actix_web::cookie::Cookie<'static> {
    let mut c = actix_web::cookie::Cookie::build(ctx.cookie_name, "")
        .path("/")
        .secure(ctx.cookie_name.starts_with("__Host-"))
        .finish();
    c.make_removal();
    c
}

/// A page that answers `303 See Other` to `to` (after a form post).
pub fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to))
        .insert_header((header::REFERRER_POLICY, "same-origin"))
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .finish()
}

/// The message page for refusals and failures.
#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage<'a> {
    ctx: &'a Ctx,
    title: String,
    body: String,
    link: Option<(&'static str, String)>,
}

/// Renders a failure as a page. Never shows internal detail.
pub fn error_page(ctx: &Ctx, e: PageError) -> HttpResponse {
    let t = ctx.text;
    match e {
        PageError::SignIn { next, expired } => {
            let mut to = format!("/sign-in?next={}", form::encode(&next));
            if expired {
                to.push_str("&expired=1");
            }
            let mut res = see_other(&to);
            if ctx.stale_cookie {
                let _ = res.add_cookie(&removal_for(ctx));
            }
            res
        }
        PageError::Forged => {
            tracing::info!("form post refused: cross-site or without its token");
            message(
                ctx,
                StatusCode::FORBIDDEN,
                t.t("error-forged-title"),
                t.t("error-forged-body"),
            )
        }
        PageError::Core(e) => {
            let (status, key) = match &e {
                CoreError::NotFound(_) => (StatusCode::NOT_FOUND, "error-not-found"),
                CoreError::Forbidden(_) => (StatusCode::FORBIDDEN, "error-forbidden"),
                CoreError::Unauthenticated(_) => (StatusCode::UNAUTHORIZED, "error-forbidden"),
                CoreError::Conflict(_) => (StatusCode::CONFLICT, "error-conflict"),
                CoreError::RateLimited { .. } => {
                    (StatusCode::TOO_MANY_REQUESTS, "error-rate-limited")
                }
                CoreError::Busy { .. } | CoreError::Unavailable { .. } => {
                    (StatusCode::SERVICE_UNAVAILABLE, "error-busy")
                }
                CoreError::BadInput { .. } | CoreError::LimitExceeded(_) => {
                    (StatusCode::BAD_REQUEST, "error-bad-input")
                }
                CoreError::Internal(detail) => {
                    tracing::error!(detail = detail.as_str(), "page failed");
                    (StatusCode::INTERNAL_SERVER_ERROR, "error-internal")
                }
            };
            message(
                ctx,
                status,
                t.t(&format!("{key}-title")),
                t.t(&format!("{key}-body")),
            )
        }
    }
}

/// A page with a title, a paragraph and a way home.
pub fn message(ctx: &Ctx, status: StatusCode, title: String, body: String) -> HttpResponse {
    let page = MessagePage {
        ctx,
        title,
        body,
        link: Some(("/", ctx.t("nav-home"))),
    };
    html(ctx, status, page.render())
}

/// When even the context cannot be built (the database is down): a page from the catalogue
/// alone, with the crisis line the catalogue carries.
fn plain_error(text: Text, status: StatusCode) -> HttpResponse {
    let body = format!(
        "<!doctype html><html lang=\"{}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{}</title><link rel=\"stylesheet\" href=\"{}\"></head><body><main class=\"page\"><h1>{}</h1><p>{}</p><p>{}</p></main></body></html>",
        text.locale.tag(),
        view::escape(&text.t("error-busy-title")),
        stylesheet_path(),
        view::escape(&text.t("error-busy-title")),
        view::escape(&text.t("error-busy-body")),
        view::escape(&text.t("crisis-fallback")),
    );
    let mut res = HttpResponse::build(status);
    if status == StatusCode::SERVICE_UNAVAILABLE {
        res.insert_header((header::RETRY_AFTER, HeaderValue::from_static("5")));
    }
    res.content_type("text/html; charset=utf-8")
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .body(body)
}

/// An id from a page's path, or "not found" naming `what` (a malformed id names nothing).
pub fn path_id(id: &str, what: &'static str) -> Result<uuid::Uuid, PageError> {
    id.parse()
        .map_err(|_| PageError::Core(CoreError::NotFound(what)))
}

/// Runs a page handler: builds the context, renders failures as pages.
pub async fn page<F>(req: &HttpRequest, state: &AppState, handler: F) -> HttpResponse
where
    F: AsyncFnOnce(&mut Ctx) -> Result<HttpResponse, PageError>,
{
    let mut ctx = match ctx(req, state).await {
        Ok(c) => c,
        Err(_) => {
            let locale = locale_for(None, req, state);
            let text = Text {
                locale,
                catalogue: state.catalogue,
            };
            return plain_error(text, StatusCode::SERVICE_UNAVAILABLE);
        }
    };
    match handler(&mut ctx).await {
        Ok(res) => res,
        Err(e) => error_page(&ctx, e),
    }
}

/// Runs a page that answers a form post: the form is read in full, and the post must come from
/// this node's own page (and carry the session's token) before `handler` runs.
pub async fn form_post<F>(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: Bytes,
    handler: F,
) -> HttpResponse
where
    F: AsyncFnOnce(
        &mut Ctx,
        web::Data<AppState>,
        form::Form,
        HttpRequest,
    ) -> Result<HttpResponse, PageError>,
{
    let form = form::Form::parse(&body);
    let st = state.clone();
    let rq = req.clone();
    page(&req, &state, async move |ctx| {
        check_post(&rq, &st, ctx, &form)?;
        handler(ctx, st, form, rq).await
    })
    .await
}

/// The HTML answer for a path no route serves, for browsers (the APIs keep their problem JSON).
pub async fn not_found(req: &HttpRequest, state: &AppState) -> HttpResponse {
    page(req, state, async move |ctx| {
        let res = message(
            ctx,
            StatusCode::NOT_FOUND,
            ctx.t("error-not-found-title"),
            ctx.t("error-not-found-body"),
        );
        Ok(res)
    })
    .await
}

/// Whether a request is a browser asking for a page (so a miss gets an HTML answer).
pub fn wants_html(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use alongside_core::i18n::{FILES, Locale, catalogue, messages_of};
    use alongside_core::vocab::{
        DurationBand, EventCategory, ExperienceBand, FollowUpOutcome, IntroductionState, Modality,
        PeerOrigin, Profession, ProgramKind, RequestState, Urgency, Weekday,
    };

    /// Messages whose names the pages build from a value (a vocabulary label, an error kind):
    /// (prefix, why). A key under one of these counts as used.
    const BUILT: &[&str] = &[
        "state-",
        "state-explain-",
        "urgency-",
        "urgency-hint-",
        "urgency-level-",
        "peer-origin-",
        "profession-",
        "modality-",
        "program-kind-",
        "event-category-",
        "error-",
        "field-error-",
        "survey-q-",
        // The survey's answers are worded by core (surveys::in_language), for pages and API.
        "survey-yes",
        "survey-no",
        "survey-likert-",
        "survey-choice-",
        "survey-answered-",
        "survey-expired-",
        "duration-",
        "tier-",
        "next-step-",
        "outcome-",
        "weekday-",
        "experience-",
        "introduction-state-",
        "outside-reason-",
        "ack-done-",
        "ack-already-",
        "handoff-done-",
        "handoff-already-",
        "month-",
        "console-state-",
        "console-severity-",
        "console-role-",
        "console-outreach-",
        "console-clock-",
        "console-done-",
        "console-field-",
        "console-origin-",
        "console-training-",
        "console-tier-",
        "console-case-item-",
        "console-milestone-",
        "console-member-",
        "console-network-done-",
        "console-course-kind-",
        "console-trainer-field-",
        "console-case-source-",
        "console-outbox-",
        "console-reason-",
        "console-audit-broken-",
    ];

    fn sources() -> String {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut text = String::new();
        for dir in ["templates", "src/pages", "src/pages/console"] {
            for entry in std::fs::read_dir(root.join(dir)).unwrap() {
                let path = entry.unwrap().path();
                if path.is_file() {
                    text.push_str(&std::fs::read_to_string(path).unwrap());
                }
            }
        }
        text
    }

    /// Every reason core's matching gives has words for a coordinator in every language.
    #[test]
    fn every_matching_reason_has_a_coordinators_wording() {
        let reasons = [
            "same profession",
            "requested profession (nurse)",
            "same specialty",
            "different specialty, as asked",
            "more experience",
            "similar experience",
            "lower caseload",
            "lived experience",
            "similar time zone",
            "speaks es",
        ];
        for r in reasons {
            let slug = super::view::reason_slug(r).unwrap_or_else(|| panic!("{r}"));
            for locale in Locale::ALL {
                assert!(
                    catalogue().has(locale, &format!("console-reason-{slug}")),
                    "{} lacks console-reason-{slug}",
                    locale.tag()
                );
            }
        }
        // And the core source gives no other reason.
        let core = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/src/matching.rs");
        let source = std::fs::read_to_string(core).unwrap();
        let given: Vec<&str> = source
            .lines()
            .filter(|l| l.contains("add(") || l.trim_start().starts_with("Some("))
            .filter_map(|l| l.split("Some(\"").nth(1))
            .filter_map(|rest| rest.split('"').next())
            .collect();
        assert!(given.len() >= 8, "{given:?}");
        for reason in given {
            assert!(
                super::view::reason_slug(reason).is_some(),
                "a reason with no wording: {reason}"
            );
        }
    }

    #[test]
    fn dates_read_as_each_language_writes_them() {
        let at = chrono::NaiveDate::from_ymd_opt(2026, 11, 30)
            .and_then(|d| d.and_hms_opt(23, 5, 0))
            .unwrap();
        let text = |locale| super::Text {
            locale,
            catalogue: catalogue(),
        };
        assert_eq!(text(Locale::En).when(at), "Nov 30, 2026, 23:05 UTC");
        assert_eq!(text(Locale::Es).when(at), "30 nov 2026, 23:05 UTC");
    }

    #[test]
    fn every_message_is_used_and_every_vocabulary_value_has_a_label() {
        let source = sources();
        let english: BTreeSet<String> = FILES
            .iter()
            .filter(|(l, name, _)| {
                *l == Locale::En && (*name == "pages.ftl" || *name == "console.ftl")
            })
            .flat_map(|(_, _, text)| messages_of(text).into_keys())
            .collect();
        let unused: Vec<_> = english
            .iter()
            .filter(|k| !source.contains(&format!("\"{k}\"")))
            .filter(|k| !BUILT.iter().any(|p| k.starts_with(p)))
            .collect();
        assert!(unused.is_empty(), "messages no page uses: {unused:?}");

        let families: Vec<(&str, Vec<&str>)> = vec![
            (
                "state",
                RequestState::ALL.iter().map(|v| v.as_str()).collect(),
            ),
            (
                "state-explain",
                RequestState::ALL.iter().map(|v| v.as_str()).collect(),
            ),
            ("urgency", Urgency::ALL.iter().map(|v| v.as_str()).collect()),
            (
                "urgency-hint",
                Urgency::ALL.iter().map(|v| v.as_str()).collect(),
            ),
            (
                "urgency-level",
                Urgency::ALL.iter().map(|v| v.as_str()).collect(),
            ),
            (
                "peer-origin",
                PeerOrigin::ALL.iter().map(|v| v.as_str()).collect(),
            ),
            (
                "profession",
                Profession::ALL.iter().map(|v| v.as_str()).collect(),
            ),
            (
                "modality",
                Modality::ALL.iter().map(|v| v.as_str()).collect(),
            ),
            (
                "program-kind",
                ProgramKind::ALL.iter().map(|v| v.as_str()).collect(),
            ),
            (
                "console-milestone",
                alongside_core::vocab::MilestoneKind::ALL
                    .iter()
                    .map(|v| v.as_str())
                    .collect(),
            ),
            (
                "event-category",
                EventCategory::ALL.iter().map(|v| v.as_str()).collect(),
            ),
            (
                "duration",
                DurationBand::ALL.iter().map(|v| v.as_str()).collect(),
            ),
            (
                "outcome",
                FollowUpOutcome::ALL.iter().map(|v| v.as_str()).collect(),
            ),
            ("weekday", Weekday::ALL.iter().map(|v| v.as_str()).collect()),
            (
                "experience",
                ExperienceBand::ALL.iter().map(|v| v.as_str()).collect(),
            ),
            (
                "introduction-state",
                IntroductionState::ALL.iter().map(|v| v.as_str()).collect(),
            ),
            ("tier", vec!["1", "2", "3"]),
            (
                "month",
                vec![
                    "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12",
                ],
            ),
            ("next-step", vec!["in_contact", "follow_up", "closed"]),
        ];
        for locale in Locale::ALL {
            for (family, values) in &families {
                for value in values {
                    let key = format!("{family}-{}", value.replace('_', "-"));
                    assert!(
                        catalogue().has(locale, &key),
                        "{} lacks {key}",
                        locale.tag()
                    );
                }
            }
            for kind in [
                "forged",
                "not-found",
                "forbidden",
                "conflict",
                "rate-limited",
                "busy",
                "bad-input",
                "internal",
            ] {
                for part in ["title", "body"] {
                    let key = format!("error-{kind}-{part}");
                    assert!(
                        catalogue().has(locale, &key),
                        "{} lacks {key}",
                        locale.tag()
                    );
                }
            }
        }
        // The built-in survey questions and answers are all translated.
        for q in alongside_core::surveys::default_questions() {
            assert!(
                english.contains(&format!("survey-q-{}", q.id)),
                "survey-q-{}",
                q.id
            );
        }
    }
}
