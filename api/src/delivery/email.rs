//! Email through lettre: SMTP with STARTTLS or implicit TLS in production, a file or log transport
//! in development (the default reaches no mail server). Logs never carry the recipient.

use std::path::PathBuf;
use std::time::Duration;

use alongside_core::CoreError;
use alongside_core::notify::outbox::OutboxRow;
use alongside_core::notify::templates::{self, Topic, Vars};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::Outcome;
use crate::config::Config;
use crate::node::AppState;

pub enum Mailer {
    Log,
    File(PathBuf),
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

impl Mailer {
    pub fn from_config(config: &Config) -> Result<Self, CoreError> {
        let email = &config.email;
        match email.transport.as_str() {
            "file" => {
                let dir = email
                    .file_dir
                    .clone()
                    .unwrap_or_else(|| config.data_dir.join("mail"));
                std::fs::create_dir_all(&dir).map_err(|e| {
                    CoreError::internal(format!("cannot create {}: {e}", dir.display()))
                })?;
                Ok(Self::File(dir))
            }
            "smtp" => {
                let s = &email.smtp;
                let builder = match s.tls.as_str() {
                    "tls" => AsyncSmtpTransport::<Tokio1Executor>::relay(&s.host),
                    "starttls" => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&s.host),
                    _ => Ok(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(
                        &s.host,
                    )),
                }
                .map_err(|e| CoreError::internal(format!("SMTP configuration: {e}")))?;
                let mut builder = builder
                    .port(s.port)
                    .timeout(Some(Duration::from_secs(s.timeout_secs)));
                if let (Some(user), Some(password)) = (&s.username, &s.password) {
                    builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
                }
                Ok(Self::Smtp(builder.build()))
            }
            _ => Ok(Self::Log),
        }
    }

    fn build(state: &AppState, row: &OutboxRow) -> Result<Message, Outcome> {
        let topic = Topic::parse(&row.topic)
            .ok_or_else(|| Outcome::Permanent(format!("unknown topic {}", row.topic)))?;
        let vars: Vars = serde_json::from_str(&row.payload)
            .map_err(|e| Outcome::Permanent(format!("payload: {e}")))?;
        let sign_in = state.tokens.settings().issuer.clone();
        let institution = state.config.node.institution_name.clone();
        let default = alongside_core::i18n::Locale::parse(&state.config.node.default_language)
            .unwrap_or(alongside_core::i18n::Locale::En);
        let rendered = templates::render(
            state.catalogue,
            topic,
            &vars,
            &sign_in,
            &institution,
            default,
        );
        let to: Mailbox = row
            .recipient
            .parse()
            .map_err(|_| Outcome::Permanent("the recipient address is not valid".into()))?;
        let from: Mailbox = state
            .config
            .email
            .from
            .parse()
            .map_err(|_| Outcome::Permanent("email.from is not a valid address".into()))?;
        Message::builder()
            .from(from)
            .to(to)
            .subject(rendered.subject)
            .message_id(Some(message_id(state, row)))
            .multipart(MultiPart::alternative_plain_html(
                rendered.text,
                rendered.html,
            ))
            .map_err(|e| Outcome::Permanent(format!("building the message: {e}")))
    }

    pub async fn deliver(&self, state: &AppState, row: &OutboxRow) -> Outcome {
        match Self::build(state, row) {
            Ok(message) => self.send(row, message).await,
            Err(outcome) => outcome,
        }
    }

    /// A plain text email, for a pager's email gateway: the same Message-ID on every retry.
    pub fn plain(
        state: &AppState,
        row: &OutboxRow,
        to: &str,
        body: String,
    ) -> Result<Message, Outcome> {
        let to: Mailbox = to
            .parse()
            .map_err(|_| Outcome::Permanent("the pager address is not valid".into()))?;
        let from: Mailbox = state
            .config
            .email
            .from
            .parse()
            .map_err(|_| Outcome::Permanent("email.from is not a valid address".into()))?;
        Message::builder()
            .from(from)
            .to(to)
            .subject(state.config.node.institution_name.clone())
            .message_id(Some(message_id(state, row)))
            .body(body)
            .map_err(|e| Outcome::Permanent(format!("building the message: {e}")))
    }

    /// Sends a built message by the configured transport.
    pub async fn send(&self, row: &OutboxRow, message: Message) -> Outcome {
        match self {
            Self::Log => {
                tracing::info!(topic = %row.topic, "email sent (log transport: no mail server configured)");
                Outcome::Delivered
            }
            Self::File(dir) => {
                let path = dir.join(format!("{}.eml", row.id));
                match tokio::fs::write(&path, message.formatted()).await {
                    Ok(()) => Outcome::Delivered,
                    Err(e) => Outcome::Retry(format!("writing {}: {e}", path.display())),
                }
            }
            Self::Smtp(transport) => match transport.send(message).await {
                Ok(_) => Outcome::Delivered,
                Err(e) if e.is_permanent() => Outcome::Permanent(format!("SMTP refused: {e}")),
                Err(e) => Outcome::Retry(format!("SMTP: {e}")),
            },
        }
    }
}

/// The same Message-ID on every retry lets a mail system recognise a redelivery.
fn message_id(state: &AppState, row: &OutboxRow) -> String {
    let id: String = row
        .idempotency_key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '.'
            }
        })
        .collect();
    format!("<{id}@{}>", state.config.node.id)
}
