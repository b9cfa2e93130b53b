//! The audit log for admins: who read or changed what and when, as ids and codes, in either
//! chain (entries about support cases under their aliases and pseudonyms), and a check of both
//! chains on demand.

use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};

use alongside_core::audit::chain::Lane;
use alongside_core::audit::{self, Chain};
use askama::Template;
use serde::Deserialize;

use crate::node::AppState;
use crate::pages::{Ctx, PageError, form_post, html, page, require_user};

const PAGE: i64 = 50;

struct Line {
    seq: i64,
    at: String,
    actor: String,
    action: String,
    record: String,
}

#[derive(Template)]
#[template(path = "console_audit.html")]
struct AuditPage<'a> {
    ctx: &'a Ctx,
    case_chain: bool,
    /// The lane shown, and the case chain's lanes to choose from (none for the main chain).
    lane: Lane,
    lanes: Vec<Lane>,
    lines: Vec<Line>,
    older: Option<i64>,
    checked: Option<(bool, String)>,
}

#[derive(Deserialize)]
pub struct AuditQuery {
    chain: Option<String>,
    lane: Option<Lane>,
    before: Option<i64>,
}

fn chain_of(name: Option<&str>) -> Chain {
    match name {
        Some("case") => Chain::Case,
        _ => Chain::Main,
    }
}

async fn render(
    ctx: &Ctx,
    st: &AppState,
    chain: Chain,
    lane: Option<Lane>,
    before: Option<i64>,
    checked: Option<(bool, String)>,
) -> Result<HttpResponse, PageError> {
    let t = ctx.text;
    let audit::Recent { lane, entries } =
        audit::recent(&st.db, &ctx.principal(), chain, lane, before, PAGE).await?;
    let older = entries
        .last()
        .map(|e| e.seq)
        .filter(|seq| *seq > 1 && entries.len() as i64 == PAGE);
    let lines = entries
        .into_iter()
        .map(|e| Line {
            seq: e.seq,
            at: if chain == Chain::Case {
                e.at.format("%Y-%m").to_string()
            } else {
                t.when(e.at)
            },
            actor: e.actor,
            action: e.action,
            record: format!("{} {}", e.record_type, e.record_id),
        })
        .collect();
    let body = AuditPage {
        case_chain: chain == Chain::Case,
        lane,
        lanes: if chain.lanes() > 1 {
            (1..=chain.lanes()).collect()
        } else {
            Vec::new()
        },
        lines,
        older,
        checked,
        ctx,
    }
    .render();
    Ok(html(ctx, StatusCode::OK, body))
}

pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<AuditQuery>,
) -> HttpResponse {
    let st = state.clone();
    let q = query.into_inner();
    page(&req, &state, async move |ctx| {
        require_user(ctx)?;
        render(
            ctx,
            &st,
            chain_of(q.chain.as_deref()),
            q.lane,
            q.before,
            None,
        )
        .await
    })
    .await
}

/// Walks both chains now and shows the answer above the log.
pub async fn check(req: HttpRequest, state: web::Data<AppState>, body: Bytes) -> HttpResponse {
    form_post(req, state, body, async move |ctx, st, form, _| {
        require_user(ctx)?;
        let report = audit::check(&st.db, &ctx.principal()).await?;
        let t = ctx.text;
        let checked = match report.broken() {
            None => (
                true,
                t.catalogue.text_with(
                    t.locale,
                    "console-audit-intact",
                    &[
                        ("main", report.main.entries.into()),
                        ("case", report.case.entries.into()),
                    ],
                ),
            ),
            Some((chain, seq, why)) => (
                false,
                t.catalogue.text_with(
                    t.locale,
                    &format!("console-audit-broken-{}", chain.as_str()),
                    &[("seq", seq.into()), ("why", why.into())],
                ),
            ),
        };
        let lane = form.get("lane").and_then(|l| l.parse().ok());
        render(
            ctx,
            &st,
            chain_of(form.get("chain")),
            lane,
            None,
            Some(checked),
        )
        .await
    })
    .await
}
