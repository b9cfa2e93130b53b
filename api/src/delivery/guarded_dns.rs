//! Name resolution for webhooks that hands the connection only the addresses webhooks may reach
//! (`alongside_core::notify::destinations`). The check and the connection use the same answer,
//! so a name that resolves to a public address when checked and to an internal one a moment
//! later (DNS rebinding) still cannot reach the internal one.

use std::error::Error;
use std::fmt;
use std::net::SocketAddr;

use alongside_core::notify::destinations::Destinations;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

pub struct GuardedResolver {
    destinations: Destinations,
}

impl GuardedResolver {
    pub fn new(destinations: Destinations) -> Self {
        Self { destinations }
    }
}

/// Every address the name resolved to is one webhooks may not reach.
#[derive(Debug)]
struct Refused;

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the name resolves only to addresses webhooks may not reach")
    }
}

impl Error for Refused {}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let destinations = self.destinations.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| destinations.permits(a.ip()))
                .collect();
            if found.is_empty() {
                return Err(Box::new(Refused) as Box<dyn Error + Send + Sync>);
            }
            Ok(Box::new(found.into_iter()) as Addrs)
        })
    }
}

/// Whether a failed request was stopped by the guard (anywhere in its chain of causes).
pub fn refused_by_guard(e: &reqwest::Error) -> bool {
    let mut cause: Option<&(dyn Error + 'static)> = e.source();
    while let Some(c) = cause {
        if c.is::<Refused>() {
            return true;
        }
        cause = c.source();
    }
    false
}
