//! The availability digest: a coarse, k-suppressed count of who at this node could answer a
//! cross-institution match, published in the node's federation feed so a requester's node can
//! ask first the members likely to have a candidate instead of every member in turn.
//!
//! It counts the supporters who opted in to outside matching, whose training is current, who
//! have room in their caseload and hours and who are available in the next 24 hours: per
//! profession, and per profession and language. Each count is given as a band, and a count
//! below k (`federation.candidate_k`, the same rule as for a candidate) is left out, so the
//! digest never points at one or two people and does not tell exact staffing. No name, handle,
//! specialty, experience or lived experience is in it.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::db::{Db, DbConnection};
use crate::deid::{self, Inspect, Shareable};
use crate::error::CoreError;
use crate::feed::{self, FeedKind};
use crate::matching;
use crate::vocab::Profession;

use super::outside::{self, OutsideQuery};

/// The digest's item id in the feed: one per node, replaced when a band changes.
pub const DIGEST_ITEM: Uuid = Uuid::from_u128(0xa1a1_0000_0000_4000_8000_0000_0000_0001);

/// Minutes ahead in which a supporter must have availability to be counted.
pub const WITHIN_MINUTES: i64 = 24 * 60;

/// A count as told: `few` is k to 4, `several` 5 to 9, `many` 10 or more. Fewer than k is not
/// told at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Band {
    Few,
    Several,
    Many,
}

impl Band {
    /// The band of `count` supporters, or none below `k` (at least 1).
    pub fn of(count: usize, k: usize) -> Option<Band> {
        if count < k.max(1) {
            None
        } else if count < 5 {
            Some(Band::Few)
        } else if count < 10 {
            Some(Band::Several)
        } else {
            Some(Band::Many)
        }
    }
}

/// One told count: supporters of `profession`, or of `profession` who speak `language` (a
/// primary language subtag, lower case).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DigestBand {
    pub profession: Profession,
    pub language: Option<String>,
    pub band: Band,
}

/// The digest a node publishes; only counts of k or more are listed, in a fixed order, so the
/// same availability always gives the same digest.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AvailabilityDigest {
    pub bands: Vec<DigestBand>,
}

impl Inspect for AvailabilityDigest {
    fn texts(&self) -> Vec<(&'static str, &str)> {
        self.bands
            .iter()
            .filter_map(|b| b.language.as_deref().map(|l| ("language", l)))
            .collect()
    }
}

/// How well a member's digest fits a query, best first: the order a match asks members in
/// (after those that failed lately, which come last whatever their digest says).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fit {
    /// Supporters of the profession wanted (speaking the language, when it is required).
    Fits,
    /// No digest from this member yet (new, or a version that publishes none).
    Unknown,
    /// Supporters who meet the hard rule (the language), of another profession.
    OtherProfession,
    /// No one who could answer.
    NoOne,
}

impl AvailabilityDigest {
    fn band(&self, profession: Profession, language: Option<&str>) -> Option<Band> {
        self.bands
            .iter()
            .find(|b| b.profession == profession && b.language.as_deref() == language)
            .map(|b| b.band)
    }

    /// How this digest fits `query`. The profession asked for (else the requester's: "a peer of
    /// similar training") is a preference in matching, the language a rule only when required.
    pub fn fit(&self, query: &OutsideQuery) -> Fit {
        let language = query
            .language
            .as_deref()
            .filter(|_| query.language_required)
            .map(|l| matching::primary_language(l).to_ascii_lowercase());
        let could = |p: Profession| self.band(p, language.as_deref()).is_some();
        match query.peer_profession.or(query.profession) {
            Some(p) if could(p) => Fit::Fits,
            None if Profession::ALL.iter().any(|&p| could(p)) => Fit::Fits,
            _ if Profession::ALL.iter().any(|&p| could(p)) => Fit::OtherProfession,
            _ => Fit::NoOne,
        }
    }
}

/// The digest of this node's supporters now.
pub fn compute(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    k: usize,
) -> Result<Shareable<AvailabilityDigest>, CoreError> {
    let mut counts: BTreeMap<(Profession, Option<String>), usize> = BTreeMap::new();
    for c in outside::opted_in(conn, now)? {
        if !matching::could_take_any(&c, now, WITHIN_MINUTES) {
            continue;
        }
        *counts.entry((c.profession, None)).or_default() += 1;
        let mut spoken: Vec<String> = c
            .languages
            .iter()
            .map(|l| matching::primary_language(l).to_ascii_lowercase())
            .filter(|l| !l.is_empty())
            .collect();
        spoken.sort();
        spoken.dedup();
        for l in spoken {
            *counts.entry((c.profession, Some(l))).or_default() += 1;
        }
    }
    let bands = counts
        .into_iter()
        .filter_map(|((profession, language), n)| {
            Band::of(n, k).map(|band| DigestBand {
                profession,
                language,
                band,
            })
        })
        .collect();
    // A language typed into a profile could carry an identifier; the gate refuses the digest
    // then, and nothing is published.
    Shareable::new(AvailabilityDigest { bands }).map_err(|f| deid::refusal(&f))
}

/// Computes the digest and publishes it in the feed if it differs from the one published, so
/// the feed changes only when a band does. Returns whether it changed.
pub async fn refresh(db: &Db, now: NaiveDateTime, k: usize) -> Result<bool, CoreError> {
    db.transaction(move |conn| {
        let digest = compute(conn, now, k)?;
        let published = feed::current(conn, FeedKind::Availability, DIGEST_ITEM)?
            .and_then(|v| serde_json::from_value::<AvailabilityDigest>(v).ok());
        if published.as_ref() == Some(digest.get()) {
            return Ok(false);
        }
        feed::publish(conn, FeedKind::Availability, DIGEST_ITEM, &digest)?;
        Ok(true)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocab::{ExperienceBand, SpecialtyPreference, Urgency};

    fn query(peer: Option<Profession>, language: Option<&str>, required: bool) -> OutsideQuery {
        OutsideQuery {
            profession: Some(Profession::Physician),
            specialty: None,
            experience: ExperienceBand::Unknown,
            peer_profession: peer,
            specialty_preference: SpecialtyPreference::Any,
            event_category: None,
            urgency: Urgency::Urgent,
            language: language.map(str::to_owned),
            language_required: required,
            modality: crate::vocab::Modality::Phone,
            time_zone: None,
        }
    }

    #[test]
    fn counts_below_k_are_not_told_and_the_rest_are_banded() {
        assert_eq!(Band::of(2, 3), None);
        assert_eq!(Band::of(3, 3), Some(Band::Few));
        assert_eq!(Band::of(4, 3), Some(Band::Few));
        assert_eq!(Band::of(5, 3), Some(Band::Several));
        assert_eq!(Band::of(9, 3), Some(Band::Several));
        assert_eq!(Band::of(10, 3), Some(Band::Many));
        assert_eq!(Band::of(6, 6), Some(Band::Several));
        assert_eq!(Band::of(0, 0), None, "k is at least 1");
    }

    #[test]
    fn fit_prefers_the_profession_and_holds_a_required_language() {
        let digest = AvailabilityDigest {
            bands: vec![
                DigestBand {
                    profession: Profession::Nurse,
                    language: None,
                    band: Band::Several,
                },
                DigestBand {
                    profession: Profession::Nurse,
                    language: Some("es".into()),
                    band: Band::Few,
                },
            ],
        };
        let nurse = Some(Profession::Nurse);
        let pharmacist = Some(Profession::Pharmacist);
        assert_eq!(digest.fit(&query(nurse, None, false)), Fit::Fits);
        assert_eq!(
            digest.fit(&query(nurse, Some("es-MX"), true)),
            Fit::Fits,
            "the primary subtag"
        );
        assert_eq!(digest.fit(&query(nurse, Some("fr"), true)), Fit::NoOne);
        assert_eq!(
            digest.fit(&query(nurse, Some("fr"), false)),
            Fit::Fits,
            "a language only preferred is no rule"
        );
        assert_eq!(
            digest.fit(&query(pharmacist, None, false)),
            Fit::OtherProfession
        );
        // No profession asked for: the requester's (a physician) is looked for first.
        assert_eq!(digest.fit(&query(None, None, false)), Fit::OtherProfession);
        assert_eq!(
            AvailabilityDigest::default().fit(&query(nurse, None, false)),
            Fit::NoOne
        );
        assert!(Fit::Fits < Fit::Unknown && Fit::Unknown < Fit::OtherProfession);
    }
}
