//! The readiness self-assessment: an institution scores itself against the field's
//! recommendations, domain by domain, gets concrete next steps, and keeps its history. Questions
//! and next steps are written for this project.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;
use uuid::Uuid;

use crate::access::{Operation, Principal, authorize};
use crate::audit;
use crate::db::{Db, Id};
use crate::error::CoreError;
use crate::i18n::{Catalogue, Locale};
use crate::ids::new_id;
use crate::schema::readiness_assessments;
use crate::stored::{from_json, to_json};
use crate::time;

/// 0 not in place, 1 partly, 2 fully.
pub const MAX_ANSWER: u8 = 2;

/// A domain of the assessment and its questions, by id. Their words are in the catalogues
/// (`readiness.ftl`), under the keys below, so every reader gets them in their language.
#[derive(Debug, Clone, Copy)]
pub struct Domain {
    pub id: &'static str,
    pub questions: &'static [&'static str],
}

const DOMAINS: &[Domain] = &[
    Domain {
        id: "leadership",
        questions: &["leadership.sponsor", "leadership.budget"],
    },
    Domain {
        id: "response_plan",
        questions: &["response_plan.trigger", "response_plan.everyone"],
    },
    Domain {
        id: "whole_workforce",
        questions: &[
            "whole_workforce.professions",
            "whole_workforce.support_staff",
        ],
    },
    Domain {
        id: "publicity",
        questions: &["publicity.awareness", "publicity.orientation"],
    },
    Domain {
        id: "disclosure_support",
        questions: &["disclosure_support.coaching", "disclosure_support.after"],
    },
    Domain {
        id: "legal_guidance",
        questions: &["legal_guidance.privilege", "legal_guidance.litigation"],
    },
    Domain {
        id: "trained_peers",
        questions: &["trained_peers.training", "trained_peers.coverage"],
    },
    Domain {
        id: "professional_partnership",
        questions: &[
            "professional_partnership.referral",
            "professional_partnership.crisis",
        ],
    },
    Domain {
        id: "follow_up",
        questions: &["follow_up.schedule", "follow_up.milestones"],
    },
    Domain {
        id: "measurement",
        questions: &["measurement.metrics", "measurement.feedback"],
    },
];

pub fn domains() -> &'static [Domain] {
    DOMAINS
}

/// `leadership.sponsor` → `leadership-sponsor`: form fields and catalogue keys.
pub fn slug(id: &str) -> String {
    id.replace(['.', '_'], "-")
}

/// The catalogue key of a domain's title.
pub fn title_key(domain: &str) -> String {
    format!("readiness-domain-{}", slug(domain))
}

/// The catalogue key of a question's text.
pub fn question_key(question: &str) -> String {
    format!("readiness-q-{}", slug(question))
}

/// The catalogue key of what to do next when a domain is not fully in place.
pub fn next_step_key(domain: &str) -> String {
    format!("readiness-next-{}", slug(domain))
}

/// A domain in one language, as the API gives it.
#[derive(Debug, Clone, Serialize)]
pub struct DomainText {
    pub id: &'static str,
    pub title: String,
    /// (question id, its text).
    pub questions: Vec<(&'static str, String)>,
    pub next_step: String,
}

/// Every domain and question in `locale`, with the institution's own wording where it has some.
pub fn domains_in(words: &Catalogue, locale: Locale) -> Vec<DomainText> {
    DOMAINS
        .iter()
        .map(|d| DomainText {
            id: d.id,
            title: words.text(locale, &title_key(d.id)),
            questions: d
                .questions
                .iter()
                .map(|q| (*q, words.text(locale, &question_key(q))))
                .collect(),
            next_step: words.text(locale, &next_step_key(d.id)),
        })
        .collect()
}

/// A domain's score as stored: its words are looked up when it is read, in the reader's
/// language (rows from before kept English words beside it, which are ignored).
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
struct StoredScore {
    domain: String,
    score: u32,
}

/// A domain's score in the reader's language.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DomainScore {
    pub domain: String,
    pub title: String,
    /// 0 to 100.
    pub score: u32,
    /// What to do next, when the domain is not fully in place.
    pub next_step: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Assessment {
    pub id: Uuid,
    pub submitted_at: NaiveDateTime,
    /// 0 to 100, the mean of the domain scores.
    pub overall: u32,
    pub domains: Vec<DomainScore>,
    pub share_with_steward: bool,
}

/// Scores answers (question id → 0, 1 or 2); every question must be answered.
fn score(answers: &BTreeMap<String, u8>) -> Result<Vec<StoredScore>, CoreError> {
    for (id, v) in answers {
        if !DOMAINS.iter().any(|d| d.questions.contains(&id.as_str())) {
            return Err(CoreError::bad_input(
                id.clone(),
                "is not a readiness question",
            ));
        }
        if *v > MAX_ANSWER {
            return Err(CoreError::bad_input(
                id.clone(),
                "answer 0 (not in place), 1 (partly) or 2 (fully)",
            ));
        }
    }
    DOMAINS
        .iter()
        .map(|d| {
            let mut got = 0u32;
            for q in d.questions {
                got += u32::from(
                    *answers
                        .get(*q)
                        .ok_or_else(|| CoreError::bad_input(*q, "is not answered"))?,
                );
            }
            let max = d.questions.len() as u32 * u32::from(MAX_ANSWER);
            Ok(StoredScore {
                domain: d.id.into(),
                score: (got * 100).checked_div(max).unwrap_or(0),
            })
        })
        .collect()
}

fn overall(domains: &[StoredScore]) -> u32 {
    if domains.is_empty() {
        0
    } else {
        domains.iter().map(|d| d.score).sum::<u32>() / domains.len() as u32
    }
}

/// An assessment as its reader reads it: each domain's title and next step in `locale`.
fn in_words(
    id: Uuid,
    submitted_at: NaiveDateTime,
    scores: &[StoredScore],
    share_with_steward: bool,
    words: &Catalogue,
    locale: Locale,
) -> Assessment {
    Assessment {
        id,
        submitted_at,
        overall: overall(scores),
        domains: scores
            .iter()
            .map(|s| DomainScore {
                domain: s.domain.clone(),
                title: words.text(locale, &title_key(&s.domain)),
                score: s.score,
                next_step: (s.score < 100).then(|| words.text(locale, &next_step_key(&s.domain))),
            })
            .collect(),
        share_with_steward,
    }
}

/// Records an assessment. Coordinators and admins. The answer is in the submitter's `locale`.
pub async fn submit(
    db: &Db,
    who: &Principal,
    answers: BTreeMap<String, u8>,
    share_with_steward: bool,
    words: &'static Catalogue,
    locale: Locale,
) -> Result<Assessment, CoreError> {
    authorize(who, Operation::ManageResources)?;
    let scores = score(&answers)?;
    let by = audit::actor(who);
    db.transaction(move |conn| {
        let id = new_id();
        let now = time::now();
        diesel::insert_into(readiness_assessments::table)
            .values((
                readiness_assessments::id.eq(Id(id)),
                readiness_assessments::answers.eq(to_json(&answers)?),
                readiness_assessments::scores.eq(to_json(&scores)?),
                readiness_assessments::share_with_steward.eq(share_with_steward),
                readiness_assessments::submitted_by.eq(by),
                readiness_assessments::submitted_at.eq(now),
            ))
            .execute(conn)?;
        Ok(in_words(
            id,
            now,
            &scores,
            share_with_steward,
            words,
            locale,
        ))
    })
    .await
}

/// Every assessment, newest first, so progress shows; in the reader's `locale`.
pub async fn history(
    db: &Db,
    who: &Principal,
    words: &'static Catalogue,
    locale: Locale,
) -> Result<Vec<Assessment>, CoreError> {
    authorize(who, Operation::ViewAggregates)?;
    db.run(move |conn| {
        let rows: Vec<(Uuid, String, bool, NaiveDateTime)> = readiness_assessments::table
            .order(readiness_assessments::submitted_at.desc())
            .select((
                readiness_assessments::id,
                readiness_assessments::scores,
                readiness_assessments::share_with_steward,
                readiness_assessments::submitted_at,
            ))
            .load(conn)?;
        rows.into_iter()
            .map(|(id, scores, share, at)| {
                let scores: Vec<StoredScore> = from_json(&scores)?;
                Ok(in_words(id, at, &scores, share, words, locale))
            })
            .collect()
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::catalogue;

    #[test]
    fn scores_and_next_steps_in_the_readers_language() {
        let mut answers: BTreeMap<String, u8> = domains()
            .iter()
            .flat_map(|d| d.questions.iter().map(|q| ((*q).to_owned(), 2)))
            .collect();
        answers.insert("publicity.awareness".into(), 1);
        answers.insert("publicity.orientation".into(), 0);
        let scores = score(&answers).unwrap();
        let read = |locale| {
            in_words(
                Uuid::nil(),
                time::now(),
                &scores,
                false,
                catalogue(),
                locale,
            )
        };
        let english = read(Locale::En);
        let publicity = english
            .domains
            .iter()
            .find(|d| d.domain == "publicity")
            .unwrap();
        assert_eq!(publicity.score, 25);
        assert_eq!(publicity.title, "People know how to reach help");
        assert!(
            publicity
                .next_step
                .as_deref()
                .unwrap()
                .starts_with("Publicise")
        );
        assert!(
            english
                .domains
                .iter()
                .filter(|d| d.domain != "publicity")
                .all(|d| d.score == 100 && d.next_step.is_none())
        );
        assert_eq!(english.overall, (900 + 25) / 10);
        let spanish = read(Locale::Es);
        let publicity = spanish
            .domains
            .iter()
            .find(|d| d.domain == "publicity")
            .unwrap();
        assert_ne!(publicity.title, "People know how to reach help");
        assert!(
            !publicity.title.starts_with("readiness-"),
            "{}",
            publicity.title
        );
        answers.remove("leadership.budget");
        assert!(score(&answers).is_err());
        answers.insert("leadership.budget".into(), 3);
        assert!(score(&answers).is_err());
    }

    /// Rows written before the words moved to the catalogues kept English titles beside the
    /// scores; they read in the reader's language like any other.
    #[test]
    fn older_rows_read_in_the_readers_language() {
        let old = r#"[{"domain":"leadership","title":"Leadership commitment","score":50,"next_step":"Ask a senior leader"}]"#;
        let scores: Vec<StoredScore> = from_json(old).unwrap();
        let a = in_words(
            Uuid::nil(),
            time::now(),
            &scores,
            false,
            catalogue(),
            Locale::Es,
        );
        assert_eq!(a.domains[0].score, 50);
        assert_eq!(
            a.domains[0].title,
            catalogue().text(Locale::Es, "readiness-domain-leadership")
        );
        assert_ne!(a.domains[0].title, "Leadership commitment");
    }

    #[test]
    fn every_domain_question_and_step_is_in_every_language() {
        for locale in Locale::ALL {
            for d in domains_in(catalogue(), locale) {
                for text in [&d.title, &d.next_step]
                    .into_iter()
                    .chain(d.questions.iter().map(|(_, t)| t))
                {
                    assert!(!text.starts_with("readiness-"), "{locale:?} lacks {text}");
                }
            }
        }
    }
}
