//! What each email says. Never case details, never another person's name, never an event's
//! category: only that something is waiting, and a link to sign in.

use serde::{Deserialize, Serialize};

use crate::i18n::{Arg, Catalogue, Locale};

/// Why an email is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Topic {
    /// To everyone involved in an event (and again after a milestone).
    Outreach,
    /// To a peer supporter offered a request.
    Offer,
    /// To the requester, when a supporter takes their request.
    MatchAccepted,
    /// To a supporter, when a follow-up is due.
    FollowUpDue,
    /// To coordinators, when a request misses a clock.
    SlaBreach,
    /// To the on-call professional, at once.
    CrisisAlert,
    /// To a supporter whose training is about to expire.
    TrainingExpiry,
    /// A single-use sign-in link, on request.
    SignInLink,
    /// To the requester when a case closes: an anonymous survey link.
    Survey,
    /// To a supporter asked, through the federation, to talk with a peer at another institution.
    Introduction,
    /// To a requester whose introduction to an outside peer was answered.
    IntroductionAnswered,
    /// To a requester whose introduction went unanswered: they may choose another peer.
    IntroductionLapsed,
    /// To a requester supported by a peer at another institution: their own program checks in.
    CheckIn,
    /// Gently again, to someone who declined or did not answer outreach, on the program's
    /// schedule.
    Recontact,
    /// To someone a colleague was worried about: the program reaches out.
    Referral,
    /// To a tier-3 program's intake: a person was handed off to it; the link shows what they
    /// agreed to share and acknowledges.
    Handoff,
    /// To coordinators, a month before an open event's list of who was involved is forgotten.
    CeilingReminder,
}

impl Topic {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Outreach => "outreach",
            Self::Offer => "offer",
            Self::MatchAccepted => "match_accepted",
            Self::FollowUpDue => "follow_up_due",
            Self::SlaBreach => "sla_breach",
            Self::CrisisAlert => "crisis_alert",
            Self::TrainingExpiry => "training_expiry",
            Self::SignInLink => "sign_in_link",
            Self::Survey => "survey",
            Self::Introduction => "introduction",
            Self::IntroductionAnswered => "introduction_answered",
            Self::IntroductionLapsed => "introduction_lapsed",
            Self::CheckIn => "check_in",
            Self::Recontact => "recontact",
            Self::Referral => "referral",
            Self::Handoff => "handoff",
            Self::CeilingReminder => "ceiling_reminder",
        }
    }

    /// What the outbox erases of such a message: a link or code that acts for the person, or a
    /// hand-off's shared details, must not stay readable once delivered.
    pub fn erase(self) -> super::outbox::Erase {
        match self {
            Self::SignInLink
            | Self::Survey
            | Self::CrisisAlert
            | Self::SlaBreach
            | Self::Handoff => super::outbox::Erase::Delivered,
            _ => super::outbox::Erase::Never,
        }
    }

    /// Every topic.
    pub const ALL: [Topic; 17] = [
        Self::Outreach,
        Self::Offer,
        Self::MatchAccepted,
        Self::FollowUpDue,
        Self::SlaBreach,
        Self::CrisisAlert,
        Self::TrainingExpiry,
        Self::SignInLink,
        Self::Survey,
        Self::Introduction,
        Self::IntroductionAnswered,
        Self::IntroductionLapsed,
        Self::CheckIn,
        Self::Recontact,
        Self::Referral,
        Self::Handoff,
        Self::CeilingReminder,
    ];

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == text)
    }
}

/// The few values a template may use. Deliberately no free text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vars {
    /// For SLA breaches: "acknowledgement" or "first contact".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock: Option<String>,
    /// For training expiry: the date, `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// For sign-in links: the single-use token. Removed from the outbox once delivered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// The recipient's language, taken from their profile when the message is queued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The node's page where the person acts on an email of this topic.
pub fn page_of(topic: Topic) -> &'static str {
    match topic {
        Topic::Outreach
        | Topic::MatchAccepted
        | Topic::IntroductionAnswered
        | Topic::IntroductionLapsed
        | Topic::CheckIn
        | Topic::Recontact
        | Topic::Referral => "/requests",
        Topic::Offer | Topic::FollowUpDue | Topic::Introduction | Topic::TrainingExpiry => {
            "/support"
        }
        Topic::SlaBreach | Topic::CrisisAlert | Topic::SignInLink | Topic::Survey => "/",
        Topic::Handoff => "/handoff",
        Topic::CeilingReminder => "/console/events",
    }
}

/// The catalogue's name for a topic: `email-TOPIC-subject`, `email-TOPIC-1`, ….
fn key_of(topic: Topic) -> String {
    format!("email-{}", topic.as_str().replace('_', "-"))
}

/// How many paragraphs each topic's body has in the catalogue.
fn paragraphs(topic: Topic) -> usize {
    match topic {
        Topic::Outreach | Topic::SignInLink | Topic::Recontact | Topic::Referral => 2,
        _ => 1,
    }
}

/// Renders a text message: one fixed sentence in the recipient's language and the link to act
/// on it — short enough for one SMS, and nothing about a person or a case.
pub fn render_text(
    c: &Catalogue,
    topic: Topic,
    vars: &Vars,
    base_url: &str,
    institution: &str,
    default: Locale,
) -> String {
    let locale = vars
        .locale
        .as_deref()
        .and_then(Locale::parse)
        .unwrap_or(default);
    let base = base_url.trim_end_matches('/');
    let link = match (topic, vars.token.as_deref()) {
        (Topic::CrisisAlert | Topic::SlaBreach, Some(code)) => format!("{base}/ack?code={code}"),
        (Topic::Handoff, Some(code)) => format!("{base}/handoff?code={code}"),
        _ => format!("{base}{}", page_of(topic)),
    };
    let key = format!("text-{}", topic.as_str().replace('_', "-"));
    let key = if c.has(locale, &key) {
        key
    } else {
        "text-any".to_owned()
    };
    c.text_with(
        locale,
        &key,
        &[("link", link.into()), ("institution", institution.into())],
    )
}

/// Renders an email in the recipient's language (their profile's, else `default`);
/// `base_url` is the node's public URL.
pub fn render(
    c: &Catalogue,
    topic: Topic,
    vars: &Vars,
    base_url: &str,
    institution: &str,
    default: Locale,
) -> Rendered {
    let locale = vars
        .locale
        .as_deref()
        .and_then(Locale::parse)
        .unwrap_or(default);
    let base = base_url.trim_end_matches('/');
    let key = key_of(topic);
    let clock_key = format!(
        "email-clock-{}",
        vars.clock
            .as_deref()
            .unwrap_or("response")
            .replace(' ', "-")
    );
    let args: Vec<(&str, Arg)> = vec![
        ("clock", c.text(locale, &clock_key).into()),
        ("date", vars.date.clone().unwrap_or_default().into()),
        ("institution", institution.into()),
    ];
    let subject = c.text(locale, &format!("{key}-subject"));
    let lines: Vec<String> = (1..=paragraphs(topic))
        .map(|n| c.text_with(locale, &format!("{key}-{n}"), &args))
        .collect();
    let token = vars.token.as_deref().unwrap_or("");
    let (link, label) = match topic {
        Topic::SignInLink => (
            format!("{base}/sign-in?token={token}"),
            c.text(locale, "email-sign-in"),
        ),
        Topic::Survey => (format!("{base}/survey?token={token}"), subject.clone()),
        Topic::Handoff => (
            format!("{base}/handoff?code={token}"),
            c.text(locale, "email-handoff-open"),
        ),
        // An alert carries its one-tap acknowledgement; the page links on to the request.
        Topic::CrisisAlert | Topic::SlaBreach if !token.is_empty() => (
            format!("{base}/ack?code={token}"),
            c.text(locale, "email-acknowledge"),
        ),
        _ => (
            format!("{base}{}", page_of(topic)),
            c.text(locale, "email-sign-in"),
        ),
    };
    let footer = c.text_with(locale, "email-footer", &args);
    // The link stands on its own line, so every mail reader makes it clickable.
    let mut text = String::new();
    for (i, line) in lines.iter().enumerate() {
        text.push_str(line);
        text.push_str("\n\n");
        if i == 0 {
            text.push_str(&format!("{label}: {link}\n\n"));
        }
    }
    text.push_str(&footer);
    text.push('\n');
    let mut html = format!("<!doctype html><html lang=\"{}\"><body>", locale.tag());
    for (i, line) in lines.iter().enumerate() {
        html.push_str(&format!("<p>{}</p>", escape(line)));
        if i == 0 {
            html.push_str(&format!(
                "<p><a href=\"{}\">{}</a></p>",
                escape(&link),
                escape(&label)
            ));
        }
    }
    html.push_str(&format!("<p>{}</p></body></html>", escape(&footer)));
    Rendered {
        subject,
        text,
        html,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::catalogue;

    const ALL: [Topic; 17] = Topic::ALL;

    /// Every topic has its words in every language, and the link to act on it.
    #[test]
    fn every_topic_renders_in_every_language_with_its_link() {
        for locale in Locale::ALL {
            for topic in ALL {
                let vars = Vars {
                    clock: Some("first contact".into()),
                    date: Some("2026-12-31".into()),
                    token: Some("TOKEN".into()),
                    locale: Some(locale.tag().into()),
                };
                let r = render(
                    catalogue(),
                    topic,
                    &vars,
                    "https://node.test/",
                    "Mercy",
                    Locale::En,
                );
                assert!(
                    !r.subject.starts_with("email-"),
                    "{topic:?} {locale:?}: {}",
                    r.subject
                );
                assert!(
                    !r.text.contains("email-"),
                    "{topic:?} {locale:?}: {}",
                    r.text
                );
                assert!(r.text.contains("https://node.test/"), "{}", r.text);
                assert!(r.html.contains(&format!("lang=\"{}\"", locale.tag())));
                if topic == Topic::TrainingExpiry {
                    assert!(r.text.contains("2026-12-31"));
                }
                if matches!(topic, Topic::SignInLink | Topic::Survey) {
                    assert!(r.text.contains("token=TOKEN"));
                }
            }
        }
        let es = render(
            catalogue(),
            Topic::Outreach,
            &Vars {
                locale: Some("es".into()),
                ..Vars::default()
            },
            "https://node.test",
            "Mercy",
            Locale::En,
        );
        assert_eq!(es.subject, "Tiene apoyo disponible");
        assert!(es.text.contains("https://node.test/requests"));
        let default = render(
            catalogue(),
            Topic::Outreach,
            &Vars::default(),
            "https://node.test",
            "Mercy",
            Locale::Es,
        );
        assert_eq!(
            default.subject, "Tiene apoyo disponible",
            "the institution's default"
        );
    }

    #[test]
    fn every_topic_has_a_short_text_in_every_language_with_its_link() {
        for locale in Locale::ALL {
            for topic in Topic::ALL {
                let text = render_text(
                    catalogue(),
                    topic,
                    &Vars {
                        locale: Some(locale.tag().into()),
                        ..Vars::default()
                    },
                    "https://alongside.mercy-hospital.example.org",
                    "Mercy General Hospital",
                    Locale::En,
                );
                assert!(
                    text.contains(&format!(
                        "https://alongside.mercy-hospital.example.org{}",
                        page_of(topic)
                    )),
                    "{text}"
                );
                assert!(text.chars().count() <= 160, "{topic:?} {locale:?}: {text}");
                assert!(!text.contains("text-") && !text.contains('{'), "{text}");
            }
        }
    }
}
