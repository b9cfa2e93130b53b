//! The program's metrics for coordinators, admins and analysts: the metrics API's own figures
//! (suppressed in core), drawn as charts and tables, each table downloadable as CSV.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use alongside_core::CoreError;
use alongside_core::metrics::program::{self, ProgramMetrics, Timing};
use alongside_core::metrics::suppression::{Cell, Published};
use alongside_core::surveys::QuestionResult;
use askama::Template;
use serde::Deserialize;

use super::chart::{self, Bar};
use super::shown;
use crate::node::AppState;
use crate::pages::view::FieldError;
use crate::pages::{Ctx, PageError, Text, html, page, require_user};

/// The most months one page breaks down month by month.
const MAX_MONTHS: usize = 24;

#[derive(Deserialize, Clone, Default)]
pub struct MetricsQuery {
    from: Option<String>,
    to: Option<String>,
    program: Option<String>,
    table: Option<String>,
}

/// One table as the page and its CSV show it: labels in the reader's language, suppressed
/// cells as "fewer than k".
pub struct Table {
    /// Unique on the page: the heading's id is `ID-heading`, the CSV's `table=ID`.
    pub id: String,
    pub title: String,
    pub columns: Vec<String>,
    pub rows: Vec<(String, Vec<String>)>,
    pub chart: Option<String>,
}

struct Timings {
    title: String,
    facts: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "console_metrics.html")]
struct MetricsPage<'a> {
    ctx: &'a Ctx,
    from: String,
    to: String,
    programs: Vec<(String, String)>,
    program: String,
    error: Option<FieldError>,
    tables: Vec<Table>,
    timings: Vec<Timings>,
    figures: Vec<(String, String)>,
    query: String,
    k: u64,
}

impl MetricsPage<'_> {
    fn lead(&self) -> String {
        self.ctx.text.t1("console-metrics-lead", "k", self.k as i64)
    }

    fn error_on(&self, field: &str) -> bool {
        crate::pages::view::is_on(&self.error, field)
    }
}

/// A stored value's label: the first catalogue family that has it, else the value itself.
fn label(t: Text, families: &[&str], value: &str) -> String {
    for f in families {
        let key = format!("{f}-{}", value.replace('_', "-"));
        if t.catalogue.has(t.locale, &key) {
            return t.t(&key);
        }
    }
    value.to_owned()
}

/// A suppressed table with its totals, its labels translated.
pub(super) fn table_of(
    t: Text,
    k: u64,
    id: &str,
    title: String,
    p: &Published,
    families: &[&str],
) -> Table {
    let mut rows: Vec<(String, Vec<String>)> = p
        .rows
        .iter()
        .enumerate()
        .map(|(r, name)| {
            let mut cells: Vec<String> = p.cells[r].iter().map(|c| shown(t, *c, k)).collect();
            cells.push(shown(t, p.row_totals[r], k));
            (label(t, families, name), cells)
        })
        .collect();
    if p.rows.len() > 1 {
        let mut totals: Vec<String> = p.column_totals.iter().map(|c| shown(t, *c, k)).collect();
        totals.push(shown(t, p.total, k));
        rows.push((t.t("console-total"), totals));
    }
    let mut columns: Vec<String> = p.columns.iter().map(|c| label(t, families, c)).collect();
    columns.push(t.t("console-total"));
    let bars: Vec<Bar> = p
        .columns
        .iter()
        .zip(&p.column_totals)
        .map(|(c, cell)| Bar {
            label: label(t, families, c),
            cell: *cell,
        })
        .collect();
    Table {
        id: id.to_owned(),
        chart: Some(chart::bars(&format!("{id}-heading"), &bars, t, k)),
        title,
        columns,
        rows,
    }
}

/// Escalations by month as the pages show them: supported, escalated, and the rate where both
/// counts are shown (a rate from a hidden count would give it away).
pub(super) fn escalation_table(t: Text, k: u64, p: &Published) -> Table {
    let column = |name: &str| p.columns.iter().position(|c| c == name);
    let (supported, escalated) = (column("supported"), column("escalated"));
    let cell = |row: &[Cell], i: Option<usize>| i.and_then(|i| row.get(i).copied());
    let rows: Vec<(String, Vec<String>)> = p
        .rows
        .iter()
        .zip(&p.cells)
        .map(|(month, row)| {
            let (s, e) = (cell(row, supported), cell(row, escalated));
            let rate = match (s, e) {
                (Some(Cell::Count(s)), Some(Cell::Count(e))) if s > 0 => {
                    format!("{:.0} %", e as f64 / s as f64 * 100.0)
                }
                _ => t.t("console-withheld"),
            };
            (
                month.clone(),
                vec![
                    s.map(|c| shown(t, c, k)).unwrap_or_default(),
                    e.map(|c| shown(t, c, k)).unwrap_or_default(),
                    rate,
                ],
            )
        })
        .collect();
    let bars: Vec<Bar> = p
        .rows
        .iter()
        .zip(&p.cells)
        .filter_map(|(month, row)| {
            cell(row, escalated).map(|c| Bar {
                label: month.clone(),
                cell: c,
            })
        })
        .collect();
    Table {
        id: "escalations".into(),
        title: t.t("console-metrics-escalations"),
        columns: vec![
            t.t("console-escalation-supported"),
            t.t("console-escalation-escalated"),
            t.t("console-escalation-rate"),
        ],
        rows,
        chart: Some(chart::bars("escalations-heading", &bars, t, k)),
    }
}

/// The month after `YYYY-MM`.
fn next_month(m: &str) -> Option<String> {
    let (y, mo) = m.split_once('-')?;
    let (y, mo): (i32, u32) = (y.parse().ok()?, mo.parse().ok()?);
    Some(if mo >= 12 {
        format!("{}-01", y + 1)
    } else {
        format!("{y}-{:02}", mo + 1)
    })
}

/// Each month from `from` to `to`, at most [`MAX_MONTHS`].
fn months(from: &str, to: &str) -> Result<Vec<String>, CoreError> {
    let mut out = vec![from.to_owned()];
    while out.last().map(String::as_str) != Some(to) {
        if out.len() >= MAX_MONTHS {
            return Err(CoreError::bad_input(
                "to",
                format!("at most {MAX_MONTHS} months on one page"),
            ));
        }
        let next = out
            .last()
            .and_then(|m| next_month(m))
            .ok_or_else(|| CoreError::bad_input("from", "use YYYY-MM"))?;
        out.push(next);
    }
    Ok(out)
}

/// The figures behind the page and its CSV: the range, and each month of it.
struct Figures {
    range: ProgramMetrics,
    months: Vec<(String, ProgramMetrics)>,
    survey: Vec<QuestionResult>,
}

async fn figures(
    st: &AppState,
    ctx: &Ctx,
    from: &str,
    to: &str,
    program: Option<uuid::Uuid>,
) -> Result<Figures, CoreError> {
    let who = ctx.principal();
    let k = st.config.metrics.suppression_k;
    let export = program::export(
        &st.db,
        &who,
        from.to_owned(),
        to.to_owned(),
        program,
        k,
        st.config.surveys.questions(),
    )
    .await?;
    let mut each = vec![];
    // One month at a time: each is its own part, suppressed alone, as the API publishes it.
    for m in months(from.trim(), to.trim())? {
        let metrics = program::for_program(&st.db, &who, m.clone(), m.clone(), program, k).await?;
        each.push((m, metrics));
    }
    Ok(Figures {
        range: export.metrics,
        months: each,
        survey: export.survey,
    })
}

fn tables(t: Text, k: u64, f: &Figures) -> Vec<Table> {
    let urgencies: Vec<String> = f.range.requests_by_origin_and_urgency.columns.clone();
    let by_month = Published {
        rows: f.months.iter().map(|(m, _)| m.clone()).collect(),
        columns: urgencies,
        cells: f
            .months
            .iter()
            .map(|(_, m)| m.requests_by_origin_and_urgency.column_totals.clone())
            .collect(),
        row_totals: f
            .months
            .iter()
            .map(|(_, m)| m.requests_by_origin_and_urgency.total)
            .collect(),
        column_totals: f.range.requests_by_origin_and_urgency.column_totals.clone(),
        total: f.range.requests_by_origin_and_urgency.total,
    };
    let mut month_table = table_of(
        t,
        k,
        "by-month",
        t.t("console-metrics-by-month"),
        &by_month,
        &["urgency-level"],
    );
    // The chart of this table is the requests of each month.
    month_table.chart = Some(chart::bars(
        "by-month-heading",
        &f.months
            .iter()
            .map(|(m, p)| Bar {
                label: m.clone(),
                cell: p.requests_by_origin_and_urgency.total,
            })
            .collect::<Vec<_>>(),
        t,
        k,
    ));
    let m = &f.range;
    // The tiers: every request (tier 2, peers, unless passed on) beside those passed to
    // professional help (tier 3). Both are the API's own figures; neither is subtracted from
    // the other, which could uncover a hidden count.
    let requests = m.requests_by_origin_and_urgency.total;
    let tier_labels = [t.t("console-tier-all"), t.t("console-tier-escalated")];
    let by_tier = Table {
        id: "by-tier".into(),
        title: t.t("console-metrics-by-tier"),
        columns: tier_labels.to_vec(),
        rows: vec![(
            t.t("console-metrics-requests"),
            vec![shown(t, requests, k), shown(t, m.escalations, k)],
        )],
        chart: Some(chart::bars(
            "by-tier-heading",
            &[
                Bar {
                    label: tier_labels[0].clone(),
                    cell: requests,
                },
                Bar {
                    label: tier_labels[1].clone(),
                    cell: m.escalations,
                },
            ],
            t,
            k,
        )),
    };
    let mut out = vec![
        month_table,
        by_tier,
        escalation_table(t, k, &m.escalations_by_month),
        table_of(
            t,
            k,
            "by-origin",
            t.t("console-metrics-by-origin"),
            &m.requests_by_origin_and_urgency,
            &["console-origin", "urgency-level"],
        ),
        table_of(
            t,
            k,
            "by-profession",
            t.t("console-metrics-by-profession"),
            &m.requests_by_profession,
            &["profession"],
        ),
        table_of(
            t,
            k,
            "by-event",
            t.t("console-metrics-by-event"),
            &m.requests_by_event_category,
            &["event-category"],
        ),
        table_of(
            t,
            k,
            "outreach",
            t.t("console-metrics-outreach"),
            &m.outreach,
            &["console-outreach"],
        ),
    ];
    for (n, q) in f.survey.iter().enumerate() {
        let question = label(t, &["survey-q"], &q.id);
        let title = if question == q.id {
            q.text.clone()
        } else {
            question
        };
        let mut table = table_of(
            t,
            k,
            &format!("survey-{}", n + 1),
            title,
            &q.answers,
            &["survey-likert", "survey-choice"],
        );
        table.chart = None;
        out.push(table);
    }
    out
}

fn timing(t: Text, k: u64, title: String, x: &Timing) -> Timings {
    let minutes = |m: Option<i64>| {
        m.map(|m| t.t1("console-minutes", "n", m))
            .unwrap_or_else(|| t.t("console-withheld"))
    };
    Timings {
        title,
        facts: vec![
            (t.t("console-measured"), shown(t, x.measured, k)),
            (t.t("console-median"), minutes(x.median_minutes)),
            (t.t("console-p90"), minutes(x.p90_minutes)),
            (
                t.t("console-target"),
                if x.target_minutes >= 120 && x.target_minutes % 60 == 0 {
                    t.t1("console-hours", "n", x.target_minutes / 60)
                } else {
                    t.t1("console-minutes", "n", x.target_minutes)
                },
            ),
            (
                t.t("console-within-target"),
                x.within_target
                    .map(|w| format!("{:.0} %", w * 100.0))
                    .unwrap_or_else(|| t.t("console-withheld")),
            ),
        ],
    }
}

impl MetricsQuery {
    /// The months asked for, else this month and the eleven before it.
    fn range(&self) -> (String, String) {
        let (from, to) = default_range();
        let given = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
        (
            given(&self.from).unwrap_or(from),
            given(&self.to).unwrap_or(to),
        )
    }
}

/// This month and the eleven before it.
pub(super) fn default_range() -> (String, String) {
    use chrono::Datelike;
    let today = alongside_core::time::now().date();
    let to = format!("{}-{:02}", today.year(), today.month());
    let back = today
        .with_day(1)
        .and_then(|d| d.checked_sub_months(chrono::Months::new(11)))
        .unwrap_or(today);
    (format!("{}-{:02}", back.year(), back.month()), to)
}

fn program_of(q: &MetricsQuery) -> Result<Option<uuid::Uuid>, CoreError> {
    match q.program.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(p) => p
            .parse()
            .map(Some)
            .map_err(|_| CoreError::bad_input("program", "choose a program from the list")),
    }
}

pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<MetricsQuery>,
) -> HttpResponse {
    let st = state.clone();
    let q = query.into_inner();
    page(&req, &state, async move |ctx| {
        require_user(ctx)?;
        let t = ctx.text;
        let k = st.config.metrics.suppression_k.get();
        let (from, to) = q.range();
        let who = ctx.principal();
        let programs = alongside_core::programs::list(
            &st.db,
            &who,
            alongside_core::page::PageRequest {
                first: Some(50),
                ..Default::default()
            },
            false,
        )
        .await?
        .items
        .into_iter()
        .map(|p| (p.id.to_string(), p.name))
        .collect();
        let chosen = program_of(&q);
        let figures = match chosen {
            Ok(program) => figures(&st, ctx, &from, &to, program).await,
            Err(e) => Err(e),
        };
        let (error, tables, timings, figures_shown, status) = match figures {
            Ok(f) => {
                let m = &f.range;
                (
                    None,
                    tables(t, k, &f),
                    vec![
                        timing(t, k, t.t("console-clock-ack"), &m.time_to_acknowledgement),
                        timing(t, k, t.t("console-clock-contact"), &m.time_to_first_contact),
                    ],
                    vec![
                        (t.t("console-escalations"), shown(t, m.escalations, k)),
                        (t.t("console-encounters"), shown(t, m.encounters, k)),
                        (
                            t.t("console-active-supporters"),
                            shown(t, m.active_supporters, k),
                        ),
                    ],
                    StatusCode::OK,
                )
            }
            Err(e @ CoreError::BadInput { .. }) => (
                FieldError::from_core(t, &e),
                vec![],
                vec![],
                vec![],
                StatusCode::BAD_REQUEST,
            ),
            Err(e) => return Err(e.into()),
        };
        let query = serde_urlencoded::to_string([
            ("from", from.as_str()),
            ("to", to.as_str()),
            ("program", q.program.as_deref().unwrap_or("")),
        ])
        .unwrap_or_default();
        let body = MetricsPage {
            from,
            to,
            programs,
            program: q.program.clone().unwrap_or_default(),
            error,
            tables,
            timings,
            figures: figures_shown,
            query,
            k,
            ctx,
        }
        .render();
        Ok::<_, PageError>(html(ctx, status, body))
    })
    .await
}

/// One table as CSV, with the page's labels and "fewer than k" where a count is suppressed.
pub async fn csv(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<MetricsQuery>,
) -> HttpResponse {
    let st = state.clone();
    let q = query.into_inner();
    page(&req, &state, async move |ctx| {
        require_user(ctx)?;
        let t = ctx.text;
        let k = st.config.metrics.suppression_k.get();
        let (from, to) = q.range();
        let f = figures(&st, ctx, &from, &to, program_of(&q)?).await?;
        let wanted = q.table.as_deref().unwrap_or("by-month");
        let chosen: Vec<Table> = tables(t, k, &f)
            .into_iter()
            .filter(|table| table.id == wanted)
            .collect();
        if chosen.is_empty() {
            return Err(CoreError::NotFound("table").into());
        }
        let quote = |s: &str| {
            if s.contains([',', '"', '\n']) {
                format!("\"{}\"", s.replace('"', "\"\""))
            } else {
                s.to_owned()
            }
        };
        let mut out = String::new();
        for table in &chosen {
            out.push_str(&format!("# {}\n", quote(&table.title)));
            let header: Vec<String> = std::iter::once(String::new())
                .chain(table.columns.iter().map(|c| quote(c)))
                .collect();
            out.push_str(&header.join(","));
            out.push('\n');
            for (name, cells) in &table.rows {
                let line: Vec<String> = std::iter::once(quote(name))
                    .chain(cells.iter().map(|c| quote(c)))
                    .collect();
                out.push_str(&line.join(","));
                out.push('\n');
            }
        }
        Ok::<_, PageError>(
            HttpResponse::Ok()
                .content_type("text/csv; charset=utf-8")
                .insert_header((header::CONTENT_SECURITY_POLICY, crate::pages::CSP))
                .insert_header((
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"metrics-{wanted}-{from}-{to}.csv\""),
                ))
                .body(out),
        )
    })
    .await
}
