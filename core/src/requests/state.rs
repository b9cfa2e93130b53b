//! The support request state machine: the only legal transitions, in one table.
//!
//! open → offered → accepted → in contact → follow-up → closed is the usual path. A decline or
//! an offer timeout sends an offered request back to open for the next supporter. The requester
//! may withdraw or decline until contact settles; escalation to professional help can happen at
//! any active stage. "Outside my institution only" requests wait for the federation instead of
//! being matched locally; once a peer at another institution accepts, the request is
//! supported outside and the requester (or a coordinator) closes it here.

use crate::error::CoreError;
use crate::vocab::RequestState::{self, *};

/// The states each state may move to.
pub fn next_states(from: RequestState) -> &'static [RequestState] {
    match from {
        Open => &[
            Offered,
            Accepted,
            Escalated,
            Withdrawn,
            DeclinedByRequester,
            SupportedOutside,
        ],
        AwaitingFederation => &[
            Open,
            Accepted,
            Escalated,
            Withdrawn,
            DeclinedByRequester,
            SupportedOutside,
        ],
        Offered => &[Accepted, Open, Escalated, Withdrawn, DeclinedByRequester],
        Accepted => &[InContact, Open, Escalated, Withdrawn, DeclinedByRequester],
        InContact => &[FollowUp, Closed, Escalated, Withdrawn, DeclinedByRequester],
        FollowUp => &[InContact, Closed, Escalated],
        Escalated => &[FollowUp, Closed],
        SupportedOutside => &[Closed, Escalated, Withdrawn],
        Closed | DeclinedByRequester | Withdrawn => &[],
    }
}

pub fn can_transition(from: RequestState, to: RequestState) -> bool {
    next_states(from).contains(&to)
}

/// Refuses an illegal transition with `CONFLICT`, naming both states.
pub fn check(from: RequestState, to: RequestState) -> Result<(), CoreError> {
    if can_transition(from, to) {
        Ok(())
    } else {
        Err(CoreError::Conflict(format!(
            "a request that is {from} cannot become {to}"
        )))
    }
}

/// Still needs someone's attention (not ended).
pub fn is_active(state: RequestState) -> bool {
    !next_states(state).is_empty()
}

/// Counts against the supporter's caseload.
pub fn holds_supporter(state: RequestState) -> bool {
    matches!(state, Offered | Accepted | InContact | FollowUp)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every pair of states, written out: 'x' where the transition is legal.
    #[test]
    fn every_pair_of_states() {
        let order = [
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
            SupportedOutside,
        ];
        let table = [
            //  O  AF Of Ac IC FU Cl DR Wi Es SO
            "..x x . . . x x x x",   // open
            "x. . x . . . x x x x",  // awaiting federation
            "x. . x . . . x x x .",  // offered
            "x. . . x . . x x x .",  // accepted
            ". . . . . x x x x x .", // in contact
            ". . . . x . x . . x .", // follow-up
            ". . . . . . . . . . .", // closed
            ". . . . . . . . . . .", // declined by requester
            ". . . . . . . . . . .", // withdrawn
            ". . . . . x x . . . .", // escalated
            ". . . . . . x . x x .", // supported outside
        ];
        for (i, from) in order.iter().enumerate() {
            let marks: Vec<bool> = table[i]
                .replace(' ', "")
                .chars()
                .map(|c| c == 'x')
                .collect();
            assert_eq!(marks.len(), order.len(), "row {from}");
            for (j, to) in order.iter().enumerate() {
                let legal = check(*from, *to).is_ok();
                assert_eq!(legal, marks[j], "{from} → {to}");
                if !legal {
                    assert!(matches!(check(*from, *to), Err(CoreError::Conflict(_))));
                }
            }
        }
    }

    #[test]
    fn no_state_moves_to_itself() {
        for s in RequestState::ALL {
            assert!(!can_transition(*s, *s), "{s}");
        }
    }
}
