//! Core errors as GraphQL errors with a stable `extensions.code` (and `field` for bad input).

use alongside_core::CoreError;
use async_graphql::{Error, ErrorExtensions};

pub fn to_gql(err: CoreError) -> Error {
    crate::observe::log_failure(&err, "graphql");
    let code = err.code();
    let field = err.field().map(str::to_owned);
    let retry_after = err.retry_after();
    Error::new(err.public_message()).extend_with(|_, ext| {
        ext.set("code", code.as_str());
        if let Some(secs) = retry_after {
            ext.set("retryAfter", secs);
        }
        if let Some(field) = &field {
            ext.set("field", field.as_str());
        }
    })
}

pub trait GqlResult<T> {
    fn gql(self) -> Result<T, Error>;
}

impl<T> GqlResult<T> for Result<T, CoreError> {
    fn gql(self) -> Result<T, Error> {
        self.map_err(to_gql)
    }
}
