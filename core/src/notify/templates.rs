//! What each email says. Never case details, never another person's name, never an event's
//! category: only that something is waiting, and a link to sign in.

use serde::{Deserialize, Serialize};

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
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
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
        ]
        .into_iter()
        .find(|t| t.as_str() == text)
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
        Topic::Outreach | Topic::MatchAccepted | Topic::IntroductionAnswered => "/requests",
        Topic::Offer | Topic::FollowUpDue | Topic::Introduction | Topic::TrainingExpiry => {
            "/support"
        }
        Topic::SlaBreach | Topic::CrisisAlert | Topic::SignInLink | Topic::Survey => "/",
    }
}

/// Renders an email; `sign_in_url` is the node's public URL.
pub fn render(topic: Topic, vars: &Vars, sign_in_url: &str, institution: &str) -> Rendered {
    let (subject, lines): (&str, Vec<String>) = match topic {
        Topic::Outreach => (
            "Support is available to you",
            vec![
                "After a recent event at work, your support program is reaching out to everyone who was involved.".into(),
                "Many people find it helps to talk with a trained peer. It is confidential and there is no pressure: you can ask for support now, later, or not at all.".into(),
            ],
        ),
        Topic::Offer => ("You have a new request for support", vec!["You have a new request for support — sign in to view it.".into()]),
        Topic::MatchAccepted => (
            "A peer supporter will contact you",
            vec!["A trained peer supporter has accepted your request and will contact you soon. Sign in to view it.".into()],
        ),
        Topic::FollowUpDue => ("A follow-up check-in is due", vec!["A follow-up check-in is due. Sign in to view it.".into()]),
        Topic::SlaBreach => (
            "A support request missed its target",
            vec![format!(
                "A support request has passed its {} target. Sign in to view the queue.",
                vars.clock.as_deref().unwrap_or("response")
            )],
        ),
        Topic::CrisisAlert => (
            "Crisis support requested: act now",
            vec!["Someone has asked for crisis support. Sign in now to view the request.".into()],
        ),
        Topic::SignInLink => ("Your sign-in link", vec![]),
        Topic::Introduction => (
            "A peer at another institution would like to talk",
            vec!["A colleague at another institution in your federation has asked to talk with a peer like you. Sign in to view the introduction and accept or decline it.".into()],
        ),
        Topic::IntroductionAnswered => (
            "Your introduction has an answer",
            vec!["The peer supporter at another institution has answered your introduction. Sign in to view it.".into()],
        ),
        Topic::Survey => (
            "How was your support? (anonymous, 2 minutes)",
            vec![format!(
                "Your support request is closed. If you would like to tell us how it went, this short survey is anonymous: your answers cannot be linked to you. It works once.\n\n{}/survey?token={}",
                sign_in_url.trim_end_matches('/'),
                vars.token.as_deref().unwrap_or("")
            )],
        ),
        Topic::TrainingExpiry => (
            "Your peer supporter training is expiring",
            vec![format!(
                "Your peer supporter training expires on {}. Renew it to keep being matched with colleagues who ask for support.",
                vars.date.as_deref().unwrap_or("soon")
            )],
        ),
    };
    if topic == Topic::SignInLink {
        let link = format!(
            "{}/sign-in?token={}",
            sign_in_url.trim_end_matches('/'),
            vars.token.as_deref().unwrap_or("")
        );
        let text = format!(
            "Use this link within 15 minutes to sign in. It works once.\n\n{link}\n\nIf you did not ask to sign in, ignore this email.\n"
        );
        let html = format!(
            "<!doctype html><html><body><p>Use this link within 15 minutes to sign in. It works once.</p><p><a href=\"{l}\">Sign in</a></p><p>If you did not ask to sign in, ignore this email.</p></body></html>",
            l = escape(&link)
        );
        return Rendered {
            subject: "Your sign-in link".into(),
            text,
            html,
        };
    }
    let footer = format!("— {institution} clinician support program");
    // Straight to the page where the person acts; signing in returns them there.
    let sign_in_url = format!("{}{}", sign_in_url.trim_end_matches('/'), page_of(topic));
    let text = format!(
        "{}\n\nSign in: {sign_in_url}\n\n{footer}\n",
        lines.join("\n\n")
    );
    let html = format!(
        "<!doctype html><html><body>{}<p><a href=\"{url}\">Sign in</a></p><p>{}</p></body></html>",
        lines
            .iter()
            .map(|l| format!("<p>{}</p>", escape(l)))
            .collect::<String>(),
        escape(&footer),
        url = escape(&sign_in_url),
    );
    Rendered {
        subject: subject.into(),
        text,
        html,
    }
}
