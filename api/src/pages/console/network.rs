//! The network's console. On the steward: its members with their status, the manifest serial
//! each holds and its last directory sync, join requests to approve, suspension and
//! reinstatement; the network's pooled metrics with the same charts, lower bounds marked. On
//! every node: the network directory (resources and trainers other members share, by origin).
//! The federation's own door decides each; these pages translate.

use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use alongside_core::CoreError;
use alongside_core::metrics::suppression::{Cell, Published};
use alongside_core::vocab::{FederationMode, MemberStatus};
use alongside_federation::MemberRecord;
use askama::Template;
use serde::Deserialize;

use super::metrics::{Table, default_range, escalation_table, table_of};
use crate::node::AppState;
use crate::pages::view::FieldError;
use crate::pages::{Ctx, PageError, Text, form_post, html, page, require_user, see_other};

struct Member {
    node_id: String,
    name: String,
    status: String,
    since: String,
    manifest: String,
    behind: bool,
    sync: String,
    checked: String,
    /// (action, button label): what may be done with this member now.
    actions: Vec<(&'static str, String)>,
}

#[derive(Template)]
#[template(path = "console_network.html")]
struct MembersPage<'a> {
    ctx: &'a Ctx,
    steward: bool,
    serial: String,
    waiting: Vec<Member>,
    members: Vec<Member>,
    notice: Option<String>,
    /// On a member node: what is wrong with its place in the network, and what to do.
    problem: Option<String>,
}

/// A member's federation problem in words an admin can act on (the operator's runbook has the
/// rest: docs/operations.md).
fn problem_text(t: Text, code: &str) -> String {
    match code {
        "FEDERATION_NOT_ACTIVE" => t.t("console-network-problem-not-active"),
        "MANIFEST_UNTRUSTED_SIGNER" => t.t("console-network-problem-key"),
        "FEDERATION_UNREACHABLE"
        | "FEDERATION_TIMEOUT"
        | "MANIFEST_UNAVAILABLE"
        | "MANIFEST_EXPIRED"
        | "MANIFEST_MISSING" => t.t("console-network-problem-steward"),
        other => t.t1("console-network-problem-other", "code", other),
    }
}

fn member(t: Text, m: &MemberRecord, serial: Option<i64>) -> Member {
    let h = &m.health;
    let status = m.member.status;
    let behind = status == MemberStatus::Active
        && serial.is_some_and(|s| h.held_serial.is_none_or(|held| held < s));
    Member {
        node_id: m.member.node_id.clone(),
        name: m.member.name.clone(),
        status: t.label("console-member", status.as_str()),
        since: match (status, m.member.joined_at) {
            (MemberStatus::Pending, _) | (_, None) => {
                t.t1("console-member-asked", "when", t.when(m.requested_at))
            }
            (_, Some(at)) => t.t1("console-member-joined", "when", t.when(at)),
        },
        manifest: match h.held_serial {
            None => t.t("console-member-serial-unknown"),
            Some(held) => t.t1("console-member-serial", "n", held),
        },
        behind,
        sync: match h.synced_at {
            None => t.t("console-member-sync-unknown"),
            Some(at) => t.t1("console-member-synced", "when", t.when(at)),
        },
        checked: match (h.checked_at, &h.error) {
            (None, _) => t.t("console-member-never-checked"),
            (Some(at), None) => t.t1("console-member-checked", "when", t.when(at)),
            (Some(at), Some(code)) => t.catalogue.text_with(
                t.locale,
                "console-member-check-failed",
                &[("when", t.when(at).into()), ("code", code.as_str().into())],
            ),
        },
        actions: match status {
            MemberStatus::Pending => vec![("approve", t.t("console-member-approve"))],
            MemberStatus::Active => vec![("suspend", t.t("console-member-suspend"))],
            _ => vec![("reinstate", t.t("console-member-reinstate"))],
        },
    }
}

#[derive(Deserialize)]
pub struct Done {
    done: Option<String>,
}

pub async fn members(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<Done>,
) -> HttpResponse {
    let st = state.clone();
    let done = query.into_inner().done;
    page(&req, &state, async move |ctx| {
        require_user(ctx)?;
        let fed = &st.federation;
        let who = ctx.principal();
        let records = fed.members(&who).await?;
        let mode = fed.mode().await?;
        let steward = mode == Some(FederationMode::Steward);
        let problem = if mode == Some(FederationMode::Member) {
            fed.status(&who)
                .await?
                .problem_code
                .map(|code| problem_text(ctx.text, &code))
        } else {
            None
        };
        let serial = if steward {
            Some(fed.published_manifest().await?.serial)
        } else {
            None
        };
        let t = ctx.text;
        let (waiting, rest): (Vec<_>, Vec<_>) = records
            .iter()
            .partition(|m| m.member.status == MemberStatus::Pending);
        let body = MembersPage {
            steward,
            serial: serial
                .map(|s| t.t1("console-network-serial", "n", s))
                .unwrap_or_default(),
            waiting: waiting.iter().map(|m| member(t, m, serial)).collect(),
            members: rest.iter().map(|m| member(t, m, serial)).collect(),
            notice: done
                .as_deref()
                .filter(|d| ["approve", "suspend", "reinstate", "checked"].contains(d))
                .map(|d| t.t(&format!("console-network-done-{d}"))),
            problem,
            ctx,
        }
        .render();
        Ok::<_, PageError>(html(ctx, StatusCode::OK, body))
    })
    .await
}

/// Approve, suspend or reinstate a member; a new manifest goes out at once.
pub async fn act(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    body: Bytes,
) -> HttpResponse {
    let (node, action) = path.into_inner();
    form_post(req, state, body, async move |ctx, st, _, _| {
        require_user(ctx)?;
        let status = match action.as_str() {
            "approve" | "reinstate" => MemberStatus::Active,
            "suspend" => MemberStatus::Suspended,
            _ => return Err(CoreError::NotFound("member action").into()),
        };
        st.federation
            .set_member_status(&ctx.principal(), node, status)
            .await?;
        Ok::<_, PageError>(see_other(&format!("/console/network?done={action}")))
    })
    .await
}

/// Asks every member for its status now.
pub async fn check(req: HttpRequest, state: web::Data<AppState>, body: Bytes) -> HttpResponse {
    form_post(req, state, body, async move |ctx, st, _, _| {
        require_user(ctx)?;
        st.federation.check_members_now(&ctx.principal()).await?;
        Ok::<_, PageError>(see_other("/console/network?done=checked"))
    })
    .await
}

#[derive(Template)]
#[template(path = "console_network_metrics.html")]
struct NetworkMetricsPage<'a> {
    ctx: &'a Ctx,
    from: String,
    to: String,
    lead: String,
    missing: Vec<String>,
    tables: Vec<Table>,
    error: Option<FieldError>,
}

impl NetworkMetricsPage<'_> {
    fn error_on(&self, field: &str) -> bool {
        crate::pages::view::is_on(&self.error, field)
    }
}

#[derive(Deserialize)]
pub struct Range {
    from: Option<String>,
    to: Option<String>,
}

/// A pooled table as the pages show it: a cell some member suppressed is a lower bound, and
/// so is every total of a table with one.
fn lower_bounds(p: &Published, at_least: &[Vec<bool>], lower: bool) -> Published {
    let bound = |c: Cell| match c {
        Cell::Count(n) => Cell::AtLeast(n),
        other => other,
    };
    let mut out = p.clone();
    for (row, flags) in out.cells.iter_mut().zip(at_least) {
        for (cell, partial) in row.iter_mut().zip(flags) {
            if *partial {
                *cell = bound(*cell);
            }
        }
    }
    if lower {
        out.row_totals = out.row_totals.into_iter().map(bound).collect();
        out.column_totals = out.column_totals.into_iter().map(bound).collect();
        out.total = bound(out.total);
    }
    out
}

/// Each pooled table's title and the catalogue families its labels come from.
fn described(name: &str) -> (&'static str, &'static [&'static str]) {
    match name {
        "requests_by_origin_and_urgency" => (
            "console-metrics-by-origin",
            &["console-origin", "urgency-level"],
        ),
        "requests_by_profession" => ("console-metrics-by-profession", &["profession"]),
        "requests_by_event_category" => ("console-metrics-by-event", &["event-category"]),
        "outside_introductions" => ("console-network-introductions", &[]),
        _ => ("console-network-acceptance", &[]),
    }
}

pub async fn metrics(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<Range>,
) -> HttpResponse {
    let st = state.clone();
    let q = query.into_inner();
    page(&req, &state, async move |ctx| {
        require_user(ctx)?;
        let (df, dt) = default_range();
        let given = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
        let (from, to) = (given(q.from).unwrap_or(df), given(q.to).unwrap_or(dt));
        let t = ctx.text;
        let (status, tables, missing, k, error) = match st
            .federation
            .network_metrics(&ctx.principal(), from.clone(), to.clone())
            .await
        {
            Ok(n) => {
                let tables = n
                    .pooled
                    .iter()
                    .map(|p| {
                        let shown = lower_bounds(&p.table, &p.at_least, p.lower_bound);
                        if p.name == "escalations_by_month" {
                            return escalation_table(t, n.k, &shown);
                        }
                        let (title, families) = described(&p.name);
                        table_of(
                            t,
                            n.k,
                            &p.name.replace('_', "-"),
                            t.t(title),
                            &shown,
                            families,
                        )
                    })
                    .collect();
                let missing = n
                    .missing
                    .iter()
                    .map(|m| {
                        t.catalogue.text_with(
                            t.locale,
                            "console-network-missing",
                            &[
                                ("node", m.node_id.as_str().into()),
                                ("month", m.month.as_str().into()),
                            ],
                        )
                    })
                    .collect();
                (StatusCode::OK, tables, missing, n.k, None)
            }
            Err(alongside_federation::FedError::Core(e @ CoreError::BadInput { .. })) => {
                // Only the range can be at fault here (core asked who reads first).
                let mut fe = super::field_error(ctx, &e, "from");
                if fe.field != "to" {
                    fe.field = "from".into();
                }
                fe.message = ctx.t("console-field-from");
                (
                    StatusCode::BAD_REQUEST,
                    vec![],
                    vec![],
                    st.config.metrics.suppression_k.get(),
                    Some(fe),
                )
            }
            Err(e) => return Err(e.into()),
        };
        let body = NetworkMetricsPage {
            from,
            to,
            lead: t.t1("console-network-metrics-lead", "k", k as i64),
            missing,
            tables,
            error,
            ctx,
        }
        .render();
        Ok::<_, PageError>(html(ctx, status, body))
    })
    .await
}

struct Shared {
    title: String,
    details: Vec<String>,
    link: Option<String>,
}

struct Origin {
    name: String,
    heading: String,
    items: Vec<Shared>,
}

#[derive(Template)]
#[template(path = "console_network_directory.html")]
struct DirectoryPage<'a> {
    ctx: &'a Ctx,
    resources: Vec<Origin>,
    trainers: Vec<Origin>,
}

/// Items grouped by the member that shares them, in the order the directory gives them.
fn by_origin(t: Text, items: Vec<(String, Shared)>) -> Vec<Origin> {
    let mut out: Vec<Origin> = vec![];
    for (name, item) in items {
        match out.iter_mut().find(|o| o.name == name) {
            Some(o) => o.items.push(item),
            None => out.push(Origin {
                heading: t.t1("console-network-from", "name", name.as_str()),
                name,
                items: vec![item],
            }),
        }
    }
    out
}

pub async fn directory(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let st = state.clone();
    page(&req, &state, async move |ctx| {
        require_user(ctx)?;
        let who = ctx.principal();
        let all = alongside_federation::directory::Window::default;
        let resources = st
            .federation
            .network_resources(&who, None, all())
            .await?
            .items;
        let trainers = st
            .federation
            .network_trainers(&who, None, all())
            .await?
            .items;
        let body = DirectoryPage {
            resources: by_origin(
                ctx.text,
                resources
                    .into_iter()
                    .map(|r| {
                        (
                            r.origin_name,
                            Shared {
                                title: r.item.title,
                                details: vec![r.item.summary],
                                link: r.item.link,
                            },
                        )
                    })
                    .collect(),
            ),
            trainers: by_origin(
                ctx.text,
                trainers
                    .into_iter()
                    .map(|l| {
                        let join = |v: Option<Vec<String>>| v.map(|v| v.join(", "));
                        let i = l.item;
                        (
                            l.origin_name,
                            Shared {
                                title: i.display_name,
                                details: [
                                    i.credentials,
                                    i.organization,
                                    join(i.topics),
                                    join(i.formats),
                                    join(i.regions),
                                    i.contact,
                                ]
                                .into_iter()
                                .flatten()
                                .filter(|d| !d.is_empty())
                                .collect(),
                                link: None,
                            },
                        )
                    })
                    .collect(),
            ),
            ctx,
        }
        .render();
        Ok::<_, PageError>(html(ctx, StatusCode::OK, body))
    })
    .await
}
