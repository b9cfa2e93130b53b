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
use crate::ids::new_id;
use crate::schema::readiness_assessments;
use crate::stored::{from_json, to_json};
use crate::time;

/// 0 not in place, 1 partly, 2 fully.
pub const MAX_ANSWER: u8 = 2;

#[derive(Debug, Clone, Serialize)]
pub struct Domain {
    pub id: &'static str,
    pub title: &'static str,
    pub questions: Vec<(&'static str, &'static str)>,
    /// What to do next when the domain is not fully in place.
    pub next_step: &'static str,
}

pub fn domains() -> Vec<Domain> {
    let d = |id, title, questions: Vec<(&'static str, &'static str)>, next_step| Domain {
        id,
        title,
        questions,
        next_step,
    };
    vec![
        d(
            "leadership",
            "Leadership commitment",
            vec![
                (
                    "leadership.sponsor",
                    "A senior leader sponsors the support program and speaks about it publicly.",
                ),
                (
                    "leadership.budget",
                    "The program has a budget and protected time for its people.",
                ),
            ],
            "Ask a senior leader to sponsor the program, and agree a budget and protected time for peer supporters.",
        ),
        d(
            "response_plan",
            "Support written into the adverse-event response",
            vec![
                (
                    "response_plan.trigger",
                    "Reaching out to staff is a step of the adverse-event response, not an afterthought.",
                ),
                (
                    "response_plan.everyone",
                    "Outreach goes to everyone involved, routinely, so no one is singled out.",
                ),
            ],
            "Add proactive outreach to everyone involved to the adverse-event policy, with a named owner.",
        ),
        d(
            "whole_workforce",
            "Programs for every part of the workforce",
            vec![
                (
                    "whole_workforce.professions",
                    "Physicians, nurses, pharmacists, allied health and trainees can all reach a peer of similar training.",
                ),
                (
                    "whole_workforce.support_staff",
                    "Support staff (housekeeping, transport, administration) are included.",
                ),
            ],
            "Recruit and train peers from the professions and teams that cannot yet find a similar peer, including support staff.",
        ),
        d(
            "publicity",
            "People know how to reach help",
            vec![
                (
                    "publicity.awareness",
                    "Staff know the program exists and how to reach it at any hour.",
                ),
                (
                    "publicity.orientation",
                    "New staff and trainees hear about it at orientation.",
                ),
            ],
            "Publicise the program where staff look at 3 a.m.: intranet, badge cards, orientation, unit huddles.",
        ),
        d(
            "disclosure_support",
            "Support during disclosure conversations",
            vec![
                (
                    "disclosure_support.coaching",
                    "Clinicians get coaching before a disclosure-and-apology conversation.",
                ),
                (
                    "disclosure_support.after",
                    "Someone checks in with them afterwards.",
                ),
            ],
            "Offer disclosure coaching and an urgent check-in for everyone in a disclosure conversation.",
        ),
        d(
            "legal_guidance",
            "Legal guidance on what can be discussed",
            vec![
                (
                    "legal_guidance.privilege",
                    "Counsel has said which conversations are privileged here, and it is written down for staff.",
                ),
                (
                    "legal_guidance.litigation",
                    "Staff facing a claim or lawsuit can get litigation support.",
                ),
            ],
            "Ask counsel to document which settings are privileged in your jurisdiction, and add litigation support.",
        ),
        d(
            "trained_peers",
            "Trained peer supporters",
            vec![
                (
                    "trained_peers.training",
                    "Peer supporters complete training and refresh it before it expires.",
                ),
                (
                    "trained_peers.coverage",
                    "There are enough trained peers for every shift and site.",
                ),
            ],
            "Schedule peer supporter training and refreshers; fill the gaps in shift and site coverage.",
        ),
        d(
            "professional_partnership",
            "Partnership with EAP and mental-health services",
            vec![
                (
                    "professional_partnership.referral",
                    "Escalation to EAP, counseling or chaplaincy is one step and is tracked.",
                ),
                (
                    "professional_partnership.crisis",
                    "A crisis path reaches an on-call professional at once.",
                ),
            ],
            "Agree a referral path and an on-call crisis contact with your EAP and mental-health services.",
        ),
        d(
            "follow_up",
            "Follow-up",
            vec![
                (
                    "follow_up.schedule",
                    "Follow-ups are scheduled after first contact (for example a day, a week, a month).",
                ),
                (
                    "follow_up.milestones",
                    "Later milestones (peer review, lawsuit, deposition) trigger renewed outreach.",
                ),
            ],
            "Set a follow-up schedule in the peer program, and reach out again at later milestones.",
        ),
        d(
            "measurement",
            "Measurement",
            vec![
                (
                    "measurement.metrics",
                    "Utilisation, time to first contact and referrals are measured without exposing individuals.",
                ),
                (
                    "measurement.feedback",
                    "People supported can give anonymous feedback.",
                ),
            ],
            "Review the program's metrics and anonymous survey results every quarter with your sponsor.",
        ),
    ]
}

#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct DomainScore {
    pub domain: String,
    pub title: String,
    /// 0 to 100.
    pub score: u32,
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
pub fn score(answers: &BTreeMap<String, u8>) -> Result<Vec<DomainScore>, CoreError> {
    let all = domains();
    for (id, v) in answers {
        if !all.iter().any(|d| d.questions.iter().any(|(q, _)| q == id)) {
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
    all.into_iter()
        .map(|d| {
            let mut got = 0u32;
            for (q, _) in &d.questions {
                got += u32::from(
                    *answers
                        .get(*q)
                        .ok_or_else(|| CoreError::bad_input(*q, "is not answered"))?,
                );
            }
            let max = d.questions.len() as u32 * u32::from(MAX_ANSWER);
            let score = (got * 100).checked_div(max).unwrap_or(0);
            Ok(DomainScore {
                domain: d.id.into(),
                title: d.title.into(),
                score,
                next_step: (score < 100).then(|| d.next_step.into()),
            })
        })
        .collect()
}

fn overall(domains: &[DomainScore]) -> u32 {
    if domains.is_empty() {
        0
    } else {
        domains.iter().map(|d| d.score).sum::<u32>() / domains.len() as u32
    }
}

/// Records an assessment. Coordinators and admins.
pub async fn submit(
    db: &Db,
    who: &Principal,
    answers: BTreeMap<String, u8>,
    share_with_steward: bool,
) -> Result<Assessment, CoreError> {
    authorize(who, Operation::ManageResources)?;
    let domains = score(&answers)?;
    let by = audit::actor(who);
    db.transaction(move |conn| {
        let id = new_id();
        let now = time::now();
        diesel::insert_into(readiness_assessments::table)
            .values((
                readiness_assessments::id.eq(Id(id)),
                readiness_assessments::answers.eq(to_json(&answers)?),
                readiness_assessments::scores.eq(to_json(&domains)?),
                readiness_assessments::share_with_steward.eq(share_with_steward),
                readiness_assessments::submitted_by.eq(by),
                readiness_assessments::submitted_at.eq(now),
            ))
            .execute(conn)?;
        Ok(Assessment {
            id,
            submitted_at: now,
            overall: overall(&domains),
            domains,
            share_with_steward,
        })
    })
    .await
}

/// Every assessment, newest first, so progress shows.
pub async fn history(db: &Db, who: &Principal) -> Result<Vec<Assessment>, CoreError> {
    authorize(who, Operation::ViewAggregates)?;
    db.run(|conn| {
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
                let domains: Vec<DomainScore> = from_json(&scores)?;
                Ok(Assessment {
                    id,
                    submitted_at: at,
                    overall: overall(&domains),
                    domains,
                    share_with_steward: share,
                })
            })
            .collect()
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_and_next_steps() {
        let mut answers: BTreeMap<String, u8> = domains()
            .iter()
            .flat_map(|d| d.questions.iter().map(|(q, _)| ((*q).to_owned(), 2)))
            .collect();
        answers.insert("publicity.awareness".into(), 1);
        answers.insert("publicity.orientation".into(), 0);
        let scores = score(&answers).unwrap();
        let publicity = scores.iter().find(|d| d.domain == "publicity").unwrap();
        assert_eq!(publicity.score, 25);
        assert!(publicity.next_step.is_some());
        assert!(
            scores
                .iter()
                .filter(|d| d.domain != "publicity")
                .all(|d| d.score == 100 && d.next_step.is_none())
        );
        assert_eq!(overall(&scores), (900 + 25) / 10);
        answers.remove("leadership.budget");
        assert!(score(&answers).is_err());
        answers.insert("leadership.budget".into(), 3);
        assert!(score(&answers).is_err());
    }
}
