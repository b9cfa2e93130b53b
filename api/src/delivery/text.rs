//! Text messages: through an HTTP messages gateway (form-encoded `From`, `To`, `Body` with basic
//! auth, the widely used shape) or a pager's email gateway. The body is rendered here from the
//! catalogue: one fixed sentence and a link. Logs never carry the number.

use alongside_core::notify::outbox::OutboxRow;
use alongside_core::notify::templates::{self, Topic, Vars};

use super::Outcome;
use super::email::Mailer;
use crate::node::AppState;

/// The text a row stands for, in its recipient's language.
fn body(state: &AppState, row: &OutboxRow) -> Result<String, Outcome> {
    let topic = Topic::parse(&row.topic)
        .ok_or_else(|| Outcome::Permanent(format!("unknown topic {}", row.topic)))?;
    let vars: Vars = serde_json::from_str(&row.payload)
        .map_err(|e| Outcome::Permanent(format!("payload: {e}")))?;
    let default = alongside_core::i18n::Locale::parse(&state.config.node.default_language)
        .unwrap_or(alongside_core::i18n::Locale::En);
    Ok(templates::render_text(
        state.catalogue,
        topic,
        &vars,
        &state.tokens.settings().issuer,
        &state.config.node.institution_name,
        default,
    ))
}

pub async fn deliver(
    state: &AppState,
    http: &reqwest::Client,
    mailer: &Mailer,
    row: &OutboxRow,
) -> Outcome {
    let text = match body(state, row) {
        Ok(t) => t,
        Err(outcome) => return outcome,
    };
    let cfg = &state.config.text_messages;
    match cfg.gateway.as_str() {
        "messages_api" => {
            let (Some(base), Some(account), Some(token), Some(from)) =
                (&cfg.base_url, &cfg.account, &cfg.token, &cfg.from)
            else {
                return Outcome::Retry("TEXT_GATEWAY_NOT_CONFIGURED".into());
            };
            let url = format!(
                "{}/Accounts/{account}/Messages.json",
                base.trim_end_matches('/')
            );
            let sent = http
                .post(&url)
                .basic_auth(account, Some(token))
                // A gateway that honours it delivers a retried message once.
                .header("Idempotency-Key", &row.idempotency_key)
                .timeout(std::time::Duration::from_secs(cfg.timeout_secs))
                .form(&[
                    ("From", from.as_str()),
                    ("To", row.recipient.as_str()),
                    ("Body", text.as_str()),
                ])
                .send()
                .await;
            match sent {
                Ok(r) if r.status().is_success() => Outcome::Delivered,
                Ok(r) => {
                    let status = r.status().as_u16();
                    if (400..500).contains(&status) && status != 408 && status != 429 {
                        Outcome::Permanent(format!("text gateway refused: HTTP {status}"))
                    } else {
                        Outcome::Retry(format!("text gateway: HTTP {status}"))
                    }
                }
                Err(e) if e.is_timeout() => Outcome::Retry("text gateway: timed out".into()),
                Err(e) => Outcome::Retry(format!("text gateway: {}", e.without_url())),
            }
        }
        "email_to_pager" => {
            let Some(domain) = &cfg.pager_domain else {
                return Outcome::Retry("TEXT_GATEWAY_NOT_CONFIGURED".into());
            };
            let digits = row.recipient.trim_start_matches('+');
            let to = format!("{digits}@{domain}");
            match Mailer::plain(state, row, &to, text) {
                Ok(message) => mailer.send(row, message).await,
                Err(outcome) => outcome,
            }
        }
        // No gateway: the message waits (and is retried) until one is configured; health says so.
        _ => Outcome::Retry("TEXT_GATEWAY_NOT_CONFIGURED".into()),
    }
}
