//! The business case for leadership: the program's measured figures with the institution's own
//! parameters, each input with where it came from, each line with how it was computed, and a
//! printable page. Nothing is stored: the page's address holds the inputs, to bookmark or share.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use alongside_core::CoreError;
use alongside_core::business_case::{self, Parameters, Report};
use askama::Template;

use super::metrics::default_range;
use crate::node::AppState;
use crate::pages::form::Form;
use crate::pages::view::FieldError;
use crate::pages::{Ctx, PageError, Text, html, page, require_user};

/// The parameters the form asks for, in order: (field, label key, hint key).
const INPUTS: [(&str, &str, &str); 6] = [
    (
        "leaving_rate",
        "console-case-leaving-rate",
        "console-case-leaving-rate-hint",
    ),
    (
        "retention_effect",
        "console-case-retention-effect",
        "console-case-retention-effect-hint",
    ),
    (
        "replacement_cost",
        "console-case-replacement-cost",
        "console-case-replacement-cost-hint",
    ),
    (
        "absence_days",
        "console-case-absence-days",
        "console-case-absence-days-hint",
    ),
    (
        "absence_day_cost",
        "console-case-absence-day-cost",
        "console-case-absence-day-cost-hint",
    ),
    (
        "program_cost",
        "console-case-program-cost",
        "console-case-program-cost-hint",
    ),
];

struct Line {
    item: String,
    value: String,
    how: String,
    source: String,
}

struct Input {
    label: String,
    value: String,
    source: String,
}

#[derive(Template)]
#[template(path = "console_business_case.html")]
struct CasePage<'a> {
    ctx: &'a Ctx,
    printable: bool,
    print_link: String,
    form_link: String,
    inputs: Vec<Input>,
    lines: Vec<Line>,
    net: Option<String>,
    period: String,
    refused: Option<String>,
    fields: Vec<(&'static str, String, String)>,
    form: Form,
    error: Option<FieldError>,
}

super::field_errors!(CasePage);

/// A figure as the reader's language writes it: grouped thousands, two decimals where it has
/// a fraction.
pub fn amount(t: Text, v: f64) -> String {
    let cents = (v.abs() * 100.0).round() as u64;
    let (whole, frac) = (cents / 100, cents % 100);
    let (group, point) = match t.locale {
        alongside_core::i18n::Locale::En => (',', '.'),
        alongside_core::i18n::Locale::Es => ('.', ','),
    };
    let digits = whole.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(group);
        }
        out.push(c);
    }
    if frac > 0 {
        out.push(point);
        out.push_str(&format!("{frac:02}"));
    }
    if v < 0.0 && cents > 0 {
        format!("−{out}")
    } else {
        out
    }
}

fn number(form: &Form, field: &str) -> Result<f64, CoreError> {
    form.get(field)
        .map(|v| v.replace(',', ""))
        .and_then(|v| v.parse::<f64>().ok())
        .ok_or_else(|| CoreError::bad_input(field, "enter a number"))
}

fn parameters(form: &Form) -> Result<Parameters, CoreError> {
    Ok(Parameters {
        leaving_rate_without_support: number(form, "leaving_rate")?,
        retention_effect: number(form, "retention_effect")?,
        replacement_cost: number(form, "replacement_cost")?,
        absence_days_avoided_per_person: number(form, "absence_days")?,
        cost_per_absence_day: number(form, "absence_day_cost")?,
        program_cost: number(form, "program_cost")?,
    })
}

/// Core's names for the parameters (as the console writes them: `leaving_rate_without_support`),
/// as the form names them.
fn form_field(core: &str) -> &str {
    match core {
        "leaving_rate_without_support" => "leaving_rate",
        "absence_days_avoided_per_person" => "absence_days",
        "cost_per_absence_day" => "absence_day_cost",
        "month" => "from",
        other => other,
    }
}

/// Each line in the reader's language, with how it was computed from the figures.
fn lines_of(t: Text, r: &Report, p: &Parameters) -> Vec<Line> {
    let n = r.lines.first().map(|l| l.value).unwrap_or(0.0);
    let kept = r.lines.get(1).map(|l| l.value).unwrap_or(0.0);
    let a = |v: f64| amount(t, v);
    r.lines
        .iter()
        .map(|l| {
            let (key, how, source) = match l.item {
                "people supported" => (
                    "people-supported",
                    t.t("console-case-how-people"),
                    "measured",
                ),
                "staff kept" => (
                    "staff-kept",
                    t.catalogue.text_with(
                        t.locale,
                        "console-case-how-kept",
                        &[
                            ("n", a(n).into()),
                            ("rate", a(p.leaving_rate_without_support).into()),
                            ("effect", a(p.retention_effect).into()),
                        ],
                    ),
                    "both",
                ),
                "turnover cost avoided" => (
                    "turnover",
                    t.catalogue.text_with(
                        t.locale,
                        "console-case-how-turnover",
                        &[
                            ("kept", a(kept).into()),
                            ("cost", a(p.replacement_cost).into()),
                        ],
                    ),
                    "yours",
                ),
                "absence cost avoided" => (
                    "absence",
                    t.catalogue.text_with(
                        t.locale,
                        "console-case-how-absence",
                        &[
                            ("n", a(n).into()),
                            ("days", a(p.absence_days_avoided_per_person).into()),
                            ("cost", a(p.cost_per_absence_day).into()),
                        ],
                    ),
                    "both",
                ),
                _ => ("cost", t.t("console-case-how-cost"), "yours"),
            };
            Line {
                item: t.t(&format!("console-case-item-{key}")),
                value: a(l.value),
                how,
                source: t.t(&format!("console-case-source-{source}")),
            }
        })
        .collect()
}

pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<Vec<(String, String)>>,
) -> HttpResponse {
    let st = state.clone();
    let form = Form::from_fields(query.into_inner());
    page(&req, &state, async move |ctx| {
        require_user(ctx)?;
        // Core's decision on who sees aggregates, before anything typed is read.
        alongside_core::access::authorize(
            &ctx.principal(),
            alongside_core::access::Operation::ViewAggregates,
        )?;
        let t = ctx.text;
        let (default_from, default_to) = default_range();
        let from = form.get("from").map_or(default_from, str::to_owned);
        let to = form.get("to").map_or(default_to, str::to_owned);
        let asked = INPUTS.iter().any(|(f, _, _)| form.get(f).is_some());
        let mut lines = vec![];
        let mut net = None;
        let mut refused = None;
        let mut error = None;
        let mut status = StatusCode::OK;
        if asked {
            let k = st.config.metrics.suppression_k;
            let outcome = match parameters(&form) {
                Ok(p) => business_case::report(
                    &st.db,
                    &ctx.principal(),
                    from.clone(),
                    to.clone(),
                    k,
                    p.clone(),
                )
                .await
                .map(|r| (r, p)),
                Err(e) => Err(e),
            };
            match outcome {
                Ok((r, p)) => {
                    lines = lines_of(t, &r, &p);
                    net = Some(amount(t, r.net_benefit));
                }
                Err(CoreError::Conflict(_)) => {
                    refused = Some(t.t1("console-case-too-few", "k", k.get() as i64));
                }
                Err(e @ CoreError::BadInput { .. }) => {
                    let mut fe = super::field_error(ctx, &e, "from");
                    fe.field = form_field(&fe.field).to_owned();
                    let key = format!("console-field-{}", fe.field.replace('_', "-"));
                    if t.catalogue.has(t.locale, &key) {
                        fe.message = t.t(&key);
                    }
                    error = Some(fe);
                    status = StatusCode::BAD_REQUEST;
                }
                Err(e) => return Err(e.into()),
            }
        }
        let query: Vec<(String, String)> = INPUTS
            .iter()
            .flat_map(|(f, _, _)| [f.to_string(), format!("{f}_source")])
            .chain(["from".to_owned(), "to".to_owned()])
            .map(|f| {
                let v = form.value(&f);
                let v = if v.is_empty() && f == "from" {
                    from.clone()
                } else if v.is_empty() && f == "to" {
                    to.clone()
                } else {
                    v
                };
                (f, v)
            })
            .collect();
        let form_link = format!(
            "/console/business-case?{}",
            serde_urlencoded::to_string(&query).unwrap_or_default()
        );
        let print_link = format!("{form_link}&print=yes");
        // The inputs as typed, sources too, for the form and the printable page.
        let body = CasePage {
            printable: form.has("print", "yes") && net.is_some(),
            print_link,
            form_link,
            inputs: INPUTS
                .iter()
                .map(|(f, label, _)| Input {
                    label: t.t(label),
                    value: form.value(f),
                    source: form
                        .get(&format!("{f}_source"))
                        .map_or_else(|| t.t("console-case-no-source"), str::to_owned),
                })
                .collect(),
            lines,
            net,
            period: t.catalogue.text_with(
                t.locale,
                "console-case-period",
                &[("from", from.clone().into()), ("to", to.clone().into())],
            ),
            refused,
            fields: INPUTS
                .iter()
                .map(|(f, label, hint)| (*f, t.t(label), t.t(hint)))
                .collect(),
            form: Form::from_fields(query),
            error,
            ctx,
        }
        .render();
        Ok::<_, PageError>(html(ctx, status, body))
    })
    .await
}

#[cfg(test)]
mod tests {
    use alongside_core::i18n::{Locale, catalogue};

    use super::*;

    #[test]
    fn amounts_are_grouped_as_each_language_writes_them() {
        let en = Text {
            locale: Locale::En,
            catalogue: catalogue(),
        };
        let es = Text {
            locale: Locale::Es,
            catalogue: catalogue(),
        };
        assert_eq!(amount(en, 202_000.0), "202,000");
        assert_eq!(amount(es, 202_000.0), "202.000");
        assert_eq!(amount(en, 1234.5), "1,234.50");
        assert_eq!(amount(en, -30_000.0), "−30,000");
        assert_eq!(amount(en, 0.2), "0.20");
        assert_eq!(amount(en, 999.0), "999");
    }
}
