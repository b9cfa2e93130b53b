//! Introductions between nodes: delivered from the outbox with retries, received idempotently.

use std::time::Duration;

use alongside_core::requests::outside::{
    self, INTRODUCTION_TOPIC, IntroductionMessage, IntroductionProgress, IntroductionResponse,
    PROGRESS_TOPIC, RESPONSE_TOPIC,
};
use alongside_core::vocab::IntroductionState;

use crate::call::Caller;
use crate::error::FedError;
use crate::service::{Federation, Peer};

pub const INTRODUCTIONS_PATH: &str = "/federation/v1/introductions";
pub const RESPONSES_PATH: &str = "/federation/v1/introductions/responses";
pub const PROGRESS_PATH: &str = "/federation/v1/introductions/progress";

/// What became of one delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Delivered,
    Retry(String),
    Permanent(String),
}

impl Federation {
    /// Delivers one outbox message to the member named in `recipient`.
    pub async fn deliver(&self, topic: &str, recipient: &str, payload: &str) -> Delivery {
        let path = match topic {
            INTRODUCTION_TOPIC => INTRODUCTIONS_PATH,
            RESPONSE_TOPIC => RESPONSES_PATH,
            PROGRESS_TOPIC => PROGRESS_PATH,
            other => return Delivery::Permanent(format!("unknown federation topic {other}")),
        };
        let trust = match self.trust().await {
            Ok(t) => t,
            Err(e) => return Delivery::Retry(e.code().as_str().into()),
        };
        let Some(member) = trust.active_member(recipient) else {
            // Perhaps suspended for now: the outbox retries, then gives up.
            return Delivery::Retry("FEDERATION_NOT_ACTIVE".into());
        };
        let peer = Peer::from(member);
        match self
            .send(
                &peer,
                reqwest::Method::POST,
                path,
                payload.as_bytes().to_vec(),
                Duration::from_secs(10),
                None,
            )
            .await
        {
            Ok(_) => Delivery::Delivered,
            Err(FedError::Refused { status, code, .. })
                if (400..500).contains(&status) && status != 408 && status != 429 =>
            {
                Delivery::Permanent(code)
            }
            Err(e) => Delivery::Retry(e.code().into()),
        }
    }

    pub async fn receive_introduction(
        &self,
        caller: &Caller,
        body: &[u8],
    ) -> Result<IntroductionState, FedError> {
        let message: IntroductionMessage = serde_json::from_slice(body)
            .map_err(|e| alongside_core::CoreError::bad_input("introduction", e.to_string()))?;
        let from = caller.node_id.clone();
        Ok(self
            .db
            .run(move |conn| outside::receive(conn, &from, message))
            .await?)
    }

    pub async fn receive_response(&self, caller: &Caller, body: &[u8]) -> Result<(), FedError> {
        let response: IntroductionResponse = serde_json::from_slice(body)
            .map_err(|e| alongside_core::CoreError::bad_input("response", e.to_string()))?;
        let from = caller.node_id.clone();
        Ok(self
            .db
            .run(move |conn| outside::receive_response(conn, &from, &response))
            .await?)
    }

    /// The supporter's node says how an accepted introduction goes (first contact, the end).
    pub async fn receive_progress(&self, caller: &Caller, body: &[u8]) -> Result<(), FedError> {
        let signal: IntroductionProgress = serde_json::from_slice(body)
            .map_err(|e| alongside_core::CoreError::bad_input("progress", e.to_string()))?;
        let from = caller.node_id.clone();
        Ok(self
            .db
            .run(move |conn| outside::receive_progress(conn, &from, &signal))
            .await?)
    }
}
