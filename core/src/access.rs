//! Who is asking, and what they may do. Every use case asks [`authorize`] before it touches
//! data, so the rules live here once and GraphQL and REST cannot disagree.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::CoreError;

/// A role held by a staff account. An account may hold several (a coordinator who is also a
/// trained peer supporter). Every account is at least a `member`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Member,
    PeerSupporter,
    Coordinator,
    Admin,
    Analyst,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Member,
        Role::PeerSupporter,
        Role::Coordinator,
        Role::Admin,
        Role::Analyst,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Member => "member",
            Self::PeerSupporter => "peer_supporter",
            Self::Coordinator => "coordinator",
            Self::Admin => "admin",
            Self::Analyst => "analyst",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = CoreError;
    fn from_str(s: &str) -> Result<Self, CoreError> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                CoreError::bad_input(
                    "role",
                    format!(
                        "unknown role {s:?}; expected one of member, peer_supporter, coordinator, \
                     admin, analyst"
                    ),
                )
            })
    }
}

/// What a partner application (OAuth2 client credentials) may be granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Scope {
    /// Create and change support programs (an intranet content system keeping them in sync).
    #[serde(rename = "programs:write")]
    ProgramsWrite,
    /// Report events and their milestones (an incident-reporting system).
    #[serde(rename = "events:write")]
    EventsWrite,
    /// Read suppressed program metrics (a dashboard, the steward's benchmarking).
    #[serde(rename = "metrics:read")]
    MetricsRead,
    /// Keep the staff roster current over SCIM 2.0 (a hospital's identity system).
    #[serde(rename = "scim")]
    Scim,
}

impl Scope {
    pub const ALL: [Scope; 4] = [
        Scope::ProgramsWrite,
        Scope::EventsWrite,
        Scope::MetricsRead,
        Scope::Scim,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ProgramsWrite => "programs:write",
            Self::EventsWrite => "events:write",
            Self::MetricsRead => "metrics:read",
            Self::Scim => "scim",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = CoreError;
    fn from_str(s: &str) -> Result<Self, CoreError> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                let known: Vec<_> = Self::ALL.iter().map(|s| s.as_str()).collect();
                CoreError::bad_input(
                    "scope",
                    format!("unknown scope {s:?}; known scopes: {}", known.join(", ")),
                )
            })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserPrincipal {
    pub account_id: Uuid,
    pub person_id: Uuid,
    pub roles: BTreeSet<Role>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientPrincipal {
    pub client_id: String,
    pub scopes: BTreeSet<Scope>,
}

/// The caller of a use case, as established by authentication.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Principal {
    #[default]
    Anonymous,
    User(UserPrincipal),
    Client(ClientPrincipal),
    /// The node acting for itself: its operator at the shell (who holds the data directory and
    /// the signing key) or its own scheduler. Never made from a request; it may manage the
    /// federation's membership and run maintenance, and reads no person's data.
    Operator,
}

impl Principal {
    pub fn has_role(&self, role: Role) -> bool {
        matches!(self, Principal::User(u) if u.roles.contains(&role))
    }

    pub fn has_scope(&self, scope: Scope) -> bool {
        matches!(self, Principal::Client(c) if c.scopes.contains(&scope))
    }

    pub fn user(&self) -> Option<&UserPrincipal> {
        match self {
            Principal::User(u) => Some(u),
            _ => None,
        }
    }

    /// The signed-in user, or `UNAUTHENTICATED` / `FORBIDDEN` for anyone else.
    pub fn require_user(&self) -> Result<&UserPrincipal, CoreError> {
        match self {
            Principal::User(u) => Ok(u),
            Principal::Anonymous => Err(sign_in_required()),
            Principal::Client(_) | Principal::Operator => Err(CoreError::Forbidden(
                "this operation needs a signed-in person".into(),
            )),
        }
    }

    fn is_person(&self, person_id: Uuid) -> bool {
        matches!(self, Principal::User(u) if u.person_id == person_id)
    }
}

/// Every operation the node offers, as far as access is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// The institution's public settings, including crisis resources: open to everyone, so a
    /// person in distress at 3 a.m. never meets a login wall first.
    ViewInstitution,
    UpdateInstitution,
    /// Support programs: public, like a hospital intranet page.
    ViewPrograms,
    ManagePrograms,
    /// The caller's own account, person and roles.
    ViewSelf,
    UpdateOwnProfile,
    /// Another person's profile and contact.
    ViewPerson {
        person_id: Uuid,
    },
    ListPeople,
    ManagePeople,
    ViewSupporter {
        person_id: Uuid,
    },
    ListSupporters,
    ManageSupporters,
    /// A peer supporter changing their own availability, time zone and caseload.
    UpdateOwnSupporterProfile,
    /// Accounts, roles and partner clients.
    ManageAccounts,
    /// Record de-identified events and milestones (coordinators, incident systems).
    RecordEvents,
    /// Events, who was involved, and the outreach to them.
    ViewEvents,
    /// Record that outreach reached someone, or did not.
    ManageOutreach,
    /// Ask for support for oneself.
    RequestSupport,
    /// Refer someone else for support.
    ReferForSupport,
    /// Work the queue: acknowledge, assign, see status (as far as each requester allowed).
    CoordinateRequests,
    /// Act as a peer supporter on requests offered to or assigned to oneself.
    SupportPeers,
    /// Run the clocks, offer timeouts and retention (the node itself).
    RunMaintenance,
    /// Counts and other aggregates, never individual records.
    ViewAggregates,
    /// The resource library: readable by everyone, like the crisis resources.
    ViewResources,
    ManageResources,
    /// The network's shared directory (resources and trainers from other members).
    ViewNetwork,
    /// Membership on a steward: approve and suspend members.
    ManageFederation,
    /// The on-call rota and its escalation settings.
    ManageOnCall,
    /// The steward's pooled network metrics.
    ViewNetworkMetrics,
    /// The staff roster over SCIM: create, change and deactivate people (the identity system).
    ProvisionStaff,
    /// "I'm worried about a colleague": any member asks the program to reach out to someone.
    ReferColleague,
}

fn sign_in_required() -> CoreError {
    CoreError::Unauthenticated("sign in to do this: send an Authorization: Bearer token".into())
}

fn forbidden(what: &str) -> CoreError {
    CoreError::Forbidden(format!("your role does not allow {what}"))
}

/// The access policy. Returns `UNAUTHENTICATED` when the caller must sign in first and
/// `FORBIDDEN` when signing in would not help.
pub fn authorize(who: &Principal, op: Operation) -> Result<(), CoreError> {
    use Operation::*;
    let staff_admin = who.has_role(Role::Coordinator) || who.has_role(Role::Admin);
    let allowed = match op {
        ViewInstitution | ViewPrograms => true,
        UpdateInstitution => who.has_role(Role::Admin),
        ManagePrograms => staff_admin || who.has_scope(Scope::ProgramsWrite),
        ViewSelf | UpdateOwnProfile => who.user().is_some(),
        ViewPerson { person_id } => who.is_person(person_id) || staff_admin,
        ListPeople | ManagePeople | ListSupporters | ManageSupporters => staff_admin,
        ViewSupporter { person_id } => who.is_person(person_id) || staff_admin,
        UpdateOwnSupporterProfile => who.has_role(Role::PeerSupporter),
        ManageAccounts => who.has_role(Role::Admin),
        RecordEvents => staff_admin || who.has_scope(Scope::EventsWrite),
        ViewEvents | ManageOutreach | ReferForSupport | CoordinateRequests => staff_admin,
        RequestSupport => who.user().is_some(),
        SupportPeers => who.has_role(Role::PeerSupporter),
        RunMaintenance => matches!(who, Principal::Operator),
        ViewAggregates => {
            staff_admin || who.has_role(Role::Analyst) || who.has_scope(Scope::MetricsRead)
        }
        ViewResources => true,
        ManageResources => staff_admin,
        ViewNetwork => !matches!(who, Principal::Anonymous),
        ManageFederation => who.has_role(Role::Admin) || matches!(who, Principal::Operator),
        ManageOnCall => staff_admin,
        ViewNetworkMetrics => who.has_role(Role::Analyst) || who.has_role(Role::Admin),
        ProvisionStaff => who.has_role(Role::Admin) || who.has_scope(Scope::Scim),
        ReferColleague => who.user().is_some(),
    };
    if allowed {
        Ok(())
    } else if matches!(who, Principal::Anonymous) {
        Err(sign_in_required())
    } else {
        Err(forbidden(op.describe()))
    }
}

impl Operation {
    fn describe(self) -> &'static str {
        use Operation::*;
        match self {
            ViewInstitution => "viewing the institution",
            UpdateInstitution => "changing institution settings",
            ViewPrograms => "viewing programs",
            ManagePrograms => "managing programs",
            ViewSelf => "viewing your account",
            UpdateOwnProfile => "changing your profile",
            ViewPerson { .. } => "viewing this person",
            ListPeople => "listing people",
            ManagePeople => "managing people",
            ViewSupporter { .. } => "viewing this peer supporter",
            ListSupporters => "listing peer supporters",
            ManageSupporters => "managing peer supporters",
            UpdateOwnSupporterProfile => "changing a peer supporter profile",
            ManageAccounts => "managing accounts and clients",
            RecordEvents => "recording events",
            ViewEvents => "viewing events",
            ManageOutreach => "managing outreach",
            RequestSupport => "requesting support",
            ReferForSupport => "referring someone for support",
            CoordinateRequests => "coordinating support requests",
            SupportPeers => "acting as a peer supporter",
            RunMaintenance => "running maintenance",
            ViewAggregates => "viewing aggregates",
            ViewResources => "viewing resources",
            ManageResources => "managing the resource library",
            ViewNetwork => "viewing the federation directory",
            ManageFederation => "managing federation membership",
            ManageOnCall => "managing the on-call rota",
            ViewNetworkMetrics => "viewing network metrics",
            ProvisionStaff => "provisioning staff (SCIM)",
            ReferColleague => "referring a colleague",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(roles: &[Role], person_id: Uuid) -> Principal {
        Principal::User(UserPrincipal {
            account_id: Uuid::nil(),
            person_id,
            roles: roles.iter().copied().chain([Role::Member]).collect(),
        })
    }

    /// 'A' allowed, 'U' unauthenticated, 'F' forbidden, for: anonymous, member, peer supporter,
    /// coordinator, admin, analyst, client with programs:write, the node's operator.
    #[test]
    fn policy_table() {
        let me = Uuid::from_u128(1);
        let other = Uuid::from_u128(2);
        let callers = [
            Principal::Anonymous,
            user(&[], me),
            user(&[Role::PeerSupporter], me),
            user(&[Role::Coordinator], me),
            user(&[Role::Admin], me),
            user(&[Role::Analyst], me),
            Principal::Client(ClientPrincipal {
                client_id: "c".into(),
                scopes: [Scope::ProgramsWrite].into_iter().collect(),
            }),
            Principal::Operator,
        ];
        use Operation::*;
        let table: Vec<(Operation, &str)> = vec![
            (ViewInstitution, "AAAAAAAA"),
            (UpdateInstitution, "UFFFAFFF"),
            (ViewPrograms, "AAAAAAAA"),
            (ManagePrograms, "UFFAAFAF"),
            (ViewSelf, "UAAAAAFF"),
            (UpdateOwnProfile, "UAAAAAFF"),
            (ViewPerson { person_id: me }, "UAAAAAFF"),
            (ViewPerson { person_id: other }, "UFFAAFFF"),
            (ListPeople, "UFFAAFFF"),
            (ManagePeople, "UFFAAFFF"),
            (ViewSupporter { person_id: me }, "UAAAAAFF"),
            (ViewSupporter { person_id: other }, "UFFAAFFF"),
            (ListSupporters, "UFFAAFFF"),
            (ManageSupporters, "UFFAAFFF"),
            (UpdateOwnSupporterProfile, "UFAFFFFF"),
            (ManageAccounts, "UFFFAFFF"),
            (RecordEvents, "UFFAAFFF"),
            (ViewEvents, "UFFAAFFF"),
            (ManageOutreach, "UFFAAFFF"),
            (RequestSupport, "UAAAAAFF"),
            (ReferForSupport, "UFFAAFFF"),
            (CoordinateRequests, "UFFAAFFF"),
            (SupportPeers, "UFAFFFFF"),
            (RunMaintenance, "UFFFFFFA"),
            (ViewAggregates, "UFFAAAFF"),
            (ViewResources, "AAAAAAAA"),
            (ManageResources, "UFFAAFFF"),
            (ViewNetwork, "UAAAAAAA"),
            (ManageFederation, "UFFFAFFA"),
            (ManageOnCall, "UFFAAFFF"),
            (ViewNetworkMetrics, "UFFFAAFF"),
            (ProvisionStaff, "UFFFAFFF"),
            (ReferColleague, "UAAAAAFF"),
        ];
        for (op, wants) in table {
            for (who, want) in callers.iter().zip(wants.chars()) {
                let got = match authorize(who, op) {
                    Ok(()) => 'A',
                    Err(CoreError::Unauthenticated(_)) => 'U',
                    Err(CoreError::Forbidden(_)) => 'F',
                    Err(e) => panic!("unexpected {e}"),
                };
                assert_eq!(got, want, "{op:?} as {who:?}");
            }
        }
    }

    /// The identity system's client provisions staff and does nothing else a person does.
    #[test]
    fn the_scim_scope_provisions_staff_only() {
        let scim = Principal::Client(ClientPrincipal {
            client_id: "idp".into(),
            scopes: [Scope::Scim].into_iter().collect(),
        });
        assert!(authorize(&scim, Operation::ProvisionStaff).is_ok());
        for op in [
            Operation::ListPeople,
            Operation::ManagePeople,
            Operation::ManageAccounts,
            Operation::RecordEvents,
            Operation::ViewEvents,
            Operation::ViewAggregates,
        ] {
            assert!(
                matches!(authorize(&scim, op), Err(CoreError::Forbidden(_))),
                "{op:?}"
            );
        }
    }

    #[test]
    fn roles_and_scopes_parse_and_refuse_unknown_names() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().ok(), Some(role));
        }
        assert!("root".parse::<Role>().is_err());
        assert_eq!(
            "programs:write".parse::<Scope>().ok(),
            Some(Scope::ProgramsWrite)
        );
        assert!("programs:*".parse::<Scope>().is_err());
    }
}
