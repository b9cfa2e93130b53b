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
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

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
