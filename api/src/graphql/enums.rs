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
