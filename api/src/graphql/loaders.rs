//! DataLoaders, one per request (they carry the caller, so access is decided per caller in core).

use std::collections::HashMap;

use alongside_core::access::Principal;
use alongside_core::db::Db;
use alongside_core::people::{self, Person};
use alongside_core::supporters::{self, PeerSupporter};
use async_graphql::dataloader::Loader;
use uuid::Uuid;

use super::errors::to_gql;

pub struct PersonLoader {
    pub db: Db,
    pub principal: Principal,
}

impl Loader<Uuid> for PersonLoader {
    type Value = Person;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Person>, Self::Error> {
        people::get_many(&self.db, &self.principal, keys.to_vec())
            .await
            .map_err(to_gql)
    }
}

/// Supporter profiles keyed by person id.
pub struct SupporterLoader {
    pub db: Db,
    pub principal: Principal,
}

impl Loader<Uuid> for SupporterLoader {
    type Value = PeerSupporter;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, PeerSupporter>, Self::Error> {
        supporters::for_people(&self.db, &self.principal, keys.to_vec())
            .await
            .map_err(to_gql)
    }
}
