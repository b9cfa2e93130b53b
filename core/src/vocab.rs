//! Closed vocabularies of the domain. Stored as their snake_case names, so a value never changes
//! meaning when a variant is added.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::CoreError;

macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident, $field:literal { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[derive(diesel::AsExpression, diesel::FromSqlRow)]
        #[diesel(sql_type = diesel::sql_types::Text)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        $crate::text_enum_storage!($name);

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = CoreError;
            fn from_str(s: &str) -> Result<Self, CoreError> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err(CoreError::bad_input(
                        $field,
                        format!(
                            "unknown value {other:?}; expected one of {}",
                            [$($text),+].join(", ")
                        ),
                    )),
                }
            }
        }
    };
}

text_enum!(
    /// Anyone touched by an event may need support, not only physicians and nurses.
    Profession, "profession" {
        Physician => "physician",
        Nurse => "nurse",
        Pharmacist => "pharmacist",
        AlliedHealth => "allied_health",
        Trainee => "trainee",
        Administrator => "administrator",
        SupportStaff => "support_staff",
        Other => "other",
    }
);

impl Profession {
    /// A job title's profession, by the words it uses. Trainees first ("Resident Physician"),
    /// nursing assistants before nurses.
    pub fn from_title(title: &str) -> Profession {
        let t = title.to_lowercase();
        let words: Vec<&str> = t
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect();
        let has = |w: &str| words.contains(&w);
        let starts = |p: &str| words.iter().any(|w| w.starts_with(p));
        if starts("resident")
            || starts("intern")
            || has("fellow")
            || starts("student")
            || starts("trainee")
        {
            Profession::Trainee
        } else if (has("nursing") && (has("assistant") || has("aide"))) || has("cna") {
            Profession::SupportStaff
        } else if starts("nurs") || has("rn") || has("lpn") || has("np") {
            Profession::Nurse
        } else if starts("pharmac") {
            Profession::Pharmacist
        } else if starts("physician")
            || starts("doctor")
            || starts("surgeon")
            || has("attending")
            || has("hospitalist")
            || starts("anesthesiologist")
            || has("md")
            || has("do")
        {
            Profession::Physician
        } else if starts("therap")
            || starts("technolog")
            || starts("technician")
            || starts("dietit")
            || has("social")
            || starts("paramedic")
            || starts("respiratory")
            || starts("radiograph")
            || starts("physiotherap")
            || starts("psycholog")
            || starts("chaplain")
        {
            Profession::AlliedHealth
        } else if starts("manag")
            || starts("director")
            || starts("administrat")
            || starts("coordinator")
            || starts("clerk")
            || has("officer")
            || starts("executive")
        {
            Profession::Administrator
        } else if starts("housekeep")
            || has("environmental")
            || starts("transport")
            || has("porter")
            || has("aide")
            || has("food")
            || has("security")
            || starts("custodian")
            || has("assistant")
        {
            Profession::SupportStaff
        } else {
            Profession::Other
        }
    }
}

text_enum!(
    /// Coarse years of experience: enough to match "a peer of similar experience", not enough to
    /// identify anyone.
    ExperienceBand, "experience_band" {
        Trainee => "trainee",
        UnderFive => "under_5_years",
        FiveToFifteen => "5_to_15_years",
        OverFifteen => "over_15_years",
        Unknown => "unknown",
    }
);

text_enum!(
    ProgramKind, "kind" {
        PeerSupport => "peer_support",
        Eap => "eap",
        Counseling => "counseling",
        Chaplaincy => "chaplaincy",
        GroupDebrief => "group_debrief",
        LitigationSupport => "litigation_support",
        Other => "other",
    }
);

text_enum!(
    Weekday, "weekday" {
        Mon => "mon",
        Tue => "tue",
        Wed => "wed",
        Thu => "thu",
        Fri => "fri",
        Sat => "sat",
        Sun => "sun",
    }
);

text_enum!(
    /// Never prejudge what counts as "adverse": harm, a near miss, an unexplained decline, a
    /// lawsuit, scrutiny.
    EventCategory, "category" {
        HarmEvent => "harm_event",
        NearMiss => "near_miss",
        UnexpectedDeathOrDecline => "unexpected_death_or_decline",
        AmbiguousOutcome => "ambiguous_outcome",
        MalpracticeClaim => "malpractice_claim",
        RegulatoryInquiry => "regulatory_inquiry",
        MediaExposure => "media_exposure",
        WorkplaceViolence => "workplace_violence",
        Other => "other",
        ColleagueConcern => "colleague_concern",
    }
);

impl EventCategory {
    /// Whether an incident report may use it: a colleague's concern is recorded only by the
    /// colleague's referral (`events::referral`).
    pub fn reportable(self) -> bool {
        self != EventCategory::ColleagueConcern
    }
}

text_enum!(
    SeverityBand, "severityBand" {
        NoHarm => "no_harm",
        Mild => "mild",
        Moderate => "moderate",
        Severe => "severe",
        Death => "death",
        Unknown => "unknown",
    }
);

text_enum!(
    /// How someone was involved. Peripheral involvement counts.
    InvolvementRole, "role" {
        Direct => "direct",
        Team => "team",
        Peripheral => "peripheral",
        Witness => "witness",
        Disclosure => "disclosure",
        Referred => "referred",
    }
);

impl InvolvementRole {
    /// Whether an incident report may use it: `referred` is a colleague's referral's.
    pub fn reportable(self) -> bool {
        self != InvolvementRole::Referred
    }
}

text_enum!(
    /// Later moments that reopen the wound and deserve renewed outreach.
    MilestoneKind, "kind" {
        Investigation => "investigation",
        PeerReview => "peer_review",
        BoardInquiry => "board_inquiry",
        LawsuitFiled => "lawsuit_filed",
        Deposition => "deposition",
        Trial => "trial",
        Settlement => "settlement",
        MediaAttention => "media_attention",
        Anniversary => "anniversary",
        Other => "other",
    }
);

text_enum!(
    OutreachState, "state" {
        Pending => "pending",
        Reached => "reached",
        Accepted => "accepted",
        Declined => "declined",
        NoAnswer => "no_answer",
    }
);

text_enum!(
    RequestOrigin, "origin" {
        SelfReferral => "self",
        Outreach => "outreach",
        Referral => "referral",
    }
);

text_enum!(
    Urgency, "urgency" {
        Routine => "routine",
        Urgent => "urgent",
        Crisis => "crisis",
    }
);

text_enum!(
    SpecialtyPreference, "specialtyPreference" {
        Any => "any",
        Same => "same",
        Other => "other",
    }
);

text_enum!(
    Modality, "modality" {
        Phone => "phone",
        Video => "video",
        InPerson => "in_person",
        Text => "text",
    }
);

text_enum!(
    /// Where the peer may come from.
    PeerOrigin, "peerOrigin" {
        AnyDepartment => "any_department",
        NotMyDepartment => "not_my_department",
        OutsideInstitutionOnly => "outside_institution_only",
    }
);

text_enum!(
    /// What the requester lets coordinators see of their request: `status_only` (status,
    /// urgency, timestamps; not who asked) or `full` (also who asked and their preferences).
    CoordinatorAccess, "coordinatorAccess" {
        StatusOnly => "status_only",
        Full => "full",
    }
);

text_enum!(
    DurationBand, "durationBand" {
        UnderFifteen => "under_15_minutes",
        FifteenToThirty => "15_to_30_minutes",
        ThirtyToSixty => "30_to_60_minutes",
        OverSixty => "over_60_minutes",
    }
);

text_enum!(
    FollowUpState, "state" {
        Scheduled => "scheduled",
        Completed => "completed",
        Skipped => "skipped",
    }
);

text_enum!(
    FollowUpOutcome, "outcome" {
        DoingWell => "doing_well",
        WantsMoreSupport => "wants_more_support",
        Referred => "referred",
        NoAnswer => "no_answer",
        Declined => "declined",
    }
);

impl DurationBand {
    /// The band's upper bound in minutes, used against monthly hours caps (conservative).
    pub fn minutes(self) -> i64 {
        match self {
            Self::UnderFifteen => 15,
            Self::FifteenToThirty => 30,
            Self::ThirtyToSixty => 60,
            Self::OverSixty => 90,
        }
    }
}

impl ExperienceBand {
    /// An order for "more experience" comparisons; `Unknown` ranks with nothing.
    pub fn rank(self) -> Option<u8> {
        match self {
            Self::Trainee => Some(0),
            Self::UnderFive => Some(1),
            Self::FiveToFifteen => Some(2),
            Self::OverFifteen => Some(3),
            Self::Unknown => None,
        }
    }
}

text_enum!(
    /// Where a support request stands. Only the transitions in `requests::state` are legal.
    RequestState, "state" {
        Open => "open",
        AwaitingFederation => "awaiting_federation",
        Offered => "offered",
        Accepted => "accepted",
        InContact => "in_contact",
        FollowUp => "follow_up",
        Closed => "closed",
        DeclinedByRequester => "declined_by_requester",
        Withdrawn => "withdrawn",
        Escalated => "escalated",
        // A peer at another institution accepted: the case goes on there, and is closed,
        // surveyed and purged here.
        SupportedOutside => "supported_outside",
    }
);

text_enum!(
    ResourceKind, "kind" {
        Toolkit => "toolkit",
        GuidanceCard => "guidance_card",
        PolicyTemplate => "policy_template",
        Article => "article",
        VideoLink => "video_link",
        TrainingMaterial => "training_material",
    }
);

text_enum!(
    /// Who a resource is shared with. Anything shared with the federation passes the
    /// de-identification gate first.
    Sharing, "sharing" {
        Local => "local",
        Federation => "federation",
    }
);

text_enum!(
    CourseKind, "kind" {
        PeerSupport => "peer_support",
        Simulation => "simulation",
        DisclosureCoaching => "disclosure_coaching",
        LitigationSupport => "litigation_support",
        Refresher => "refresher",
    }
);

text_enum!(
    /// What an item of the federation change feed is: a shared resource, a trainer directory
    /// entry, or the node's availability digest for cross-institution matching (one per node).
    FeedKind, "kind" {
        Resource => "resource",
        Trainer => "trainer",
        Availability => "availability",
    }
);

text_enum!(
    /// A node's place in a federation.
    FederationMode, "mode" {
        Member => "member",
        Steward => "steward",
    }
);

text_enum!(
    /// A member as its steward sees it: asked to join, in the federation, or suspended.
    MemberStatus, "status" {
        Pending => "pending",
        Active => "active",
        Suspended => "suspended",
    }
);

text_enum!(
    /// An introduction between a requester at one node and a supporter at another.
    IntroductionState, "state" {
        Sending => "sending",
        Pending => "pending",
        Accepted => "accepted",
        Declined => "declined",
        Failed => "failed",
        // Unanswered for LAPSE_HOURS: the requester may choose another peer.
        Lapsed => "lapsed",
        // Accepted, and the support has ended (the supporter said so).
        Closed => "closed",
    }
);

text_enum!(
    /// Whether this node sent an introduction (its member asked) or received it (its supporter
    /// is asked).
    IntroductionDirection, "direction" {
        Outbound => "outbound",
        Inbound => "inbound",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_give_professions() {
        for (title, p) in [
            ("Registered Nurse", Profession::Nurse),
            ("Resident Physician", Profession::Trainee),
            ("Certified Nursing Assistant", Profession::SupportStaff),
            ("Attending Physician", Profession::Physician),
            ("Clinical Pharmacist", Profession::Pharmacist),
            ("Respiratory Therapist", Profession::AlliedHealth),
            (
                "Environmental Services Housekeeper",
                Profession::SupportStaff,
            ),
            ("Patient Transport", Profession::SupportStaff),
            ("Nurse Manager", Profession::Nurse),
            ("Unit Clerk", Profession::Administrator),
            ("Astronaut", Profession::Other),
        ] {
            assert_eq!(Profession::from_title(title), p, "{title}");
        }
    }
}

crate::db::types::json_field!(Vec<Profession>, Vec<EventCategory>);
