//! GraphQL mirrors of the core vocabularies; `remote` keeps each in step with its core enum.

use async_graphql::Enum;

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "alongside_core::vocab::Profession")]
pub enum Profession {
    Physician,
    Nurse,
    Pharmacist,
    AlliedHealth,
    Trainee,
    Administrator,
    SupportStaff,
    Other,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "alongside_core::vocab::ExperienceBand")]
pub enum ExperienceBand {
    Trainee,
    UnderFive,
    FiveToFifteen,
    OverFifteen,
    Unknown,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "alongside_core::vocab::ProgramKind")]
pub enum ProgramKind {
    PeerSupport,
    Eap,
    Counseling,
    Chaplaincy,
    GroupDebrief,
    LitigationSupport,
    Other,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "alongside_core::vocab::Weekday")]
pub enum Weekday {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "alongside_core::access::Role")]
pub enum Role {
    Member,
    PeerSupporter,
    Coordinator,
    Admin,
    Analyst,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "alongside_core::vocab::EventCategory")]
pub enum EventCategory {
    HarmEvent,
    NearMiss,
    UnexpectedDeathOrDecline,
    AmbiguousOutcome,
    MalpracticeClaim,
    RegulatoryInquiry,
    MediaExposure,
    WorkplaceViolence,
    Other,
    /// A colleague's concern (`referColleague`); not for incident reports.
    ColleagueConcern,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "alongside_core::vocab::SeverityBand")]
pub enum SeverityBand {
    NoHarm,
    Mild,
    Moderate,
    Severe,
    Death,
    Unknown,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "alongside_core::vocab::InvolvementRole")]
pub enum InvolvementRole {
    Direct,
    Team,
    Peripheral,
    Witness,
    Disclosure,
    /// Reached because a colleague was worried (`referColleague`); not for incident reports.
    Referred,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "alongside_core::vocab::MilestoneKind")]
pub enum MilestoneKind {
    /// An investigation or root-cause interview.
    Investigation,
    PeerReview,
    /// A complaint to a licensing board.
    BoardInquiry,
    LawsuitFiled,
    Deposition,
    Trial,
    Settlement,
    MediaAttention,
    /// A year since the event.
    Anniversary,
    Other,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "alongside_core::vocab::OutreachState")]
pub enum OutreachState {
    Pending,
    Reached,
    Accepted,
    Declined,
    NoAnswer,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "alongside_core::vocab::RequestOrigin")]
pub enum RequestOrigin {
    SelfReferral,
    Outreach,
    Referral,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "alongside_core::vocab::Urgency")]
pub enum Urgency {
    Routine,
    Urgent,
    Crisis,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "alongside_core::vocab::SpecialtyPreference")]
pub enum SpecialtyPreference {
    Any,
    Same,
    Other,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "alongside_core::vocab::Modality")]
pub enum Modality {
    Phone,
    Video,
    InPerson,
    Text,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "alongside_core::vocab::PeerOrigin")]
pub enum PeerOrigin {
    AnyDepartment,
    NotMyDepartment,
    OutsideInstitutionOnly,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "alongside_core::vocab::CoordinatorAccess")]
pub enum CoordinatorAccess {
    StatusOnly,
    Full,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "alongside_core::vocab::RequestState")]
pub enum RequestState {
    Open,
    AwaitingFederation,
    Offered,
    Accepted,
    InContact,
    FollowUp,
    Closed,
    DeclinedByRequester,
    Withdrawn,
    Escalated,
    /// A peer at another institution accepted; the case is closed here when it ends.
    SupportedOutside,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "alongside_core::vocab::DurationBand")]
pub enum DurationBand {
    UnderFifteen,
    FifteenToThirty,
    ThirtyToSixty,
    OverSixty,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "alongside_core::vocab::FollowUpState")]
pub enum FollowUpState {
    Scheduled,
    Completed,
    Skipped,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "alongside_core::vocab::FollowUpOutcome")]
pub enum FollowUpOutcome {
    DoingWell,
    WantsMoreSupport,
    Referred,
    NoAnswer,
    Declined,
}
