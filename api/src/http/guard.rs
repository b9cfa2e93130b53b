//! In front of every route: rate limits (per client address, per bearer token, per address for
//! sign-in, per address for federation calls and, once a call is verified, per member) answered
//! with `429` and `Retry-After`;
//! CORS for the configured origins only; and security headers on every response.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, ResponseError, web};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use sha2::{Digest, Sha256};

use super::problem::Problem;
use crate::config::SecurityConfig;
use crate::node::AppState;

type Keyed = DefaultKeyedRateLimiter<String>;

/// The limiters and header settings of one node.
pub struct Guard {
    per_ip: Option<Keyed>,
    per_token: Option<Keyed>,
    sign_in: Option<Keyed>,
    federation_ip: Option<Keyed>,
    federation_member: Option<Keyed>,
    cors: Vec<String>,
    hsts: bool,
    trust_forwarded_for: bool,
    checks: AtomicU64,
    /// Requests being answered now (all but the free routes), and the most allowed at once.
    in_flight: AtomicUsize,
    max_in_flight: usize,
    /// The same per client address, and the most one address may have.
    by_address: Mutex<HashMap<String, usize>>,
    max_per_address: usize,
    /// Requests turned away because `max_in_flight` were being answered.
    shed: AtomicU64,
}

/// A place among the requests in flight (and its address's), given back when the request is
/// answered.
struct InFlight {
    guard: std::sync::Arc<Guard>,
    address: Option<String>,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.guard.in_flight.fetch_sub(1, Ordering::AcqRel);
        if let Some(address) = self.address.take() {
            let mut by = self
                .guard
                .by_address
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if let Some(n) = by.get_mut(&address) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    by.remove(&address);
                }
            }
        }
    }
}

/// Why a request got no place in flight.
enum Full {
    /// `max_in_flight` requests are being answered.
    Node,
    /// Its address has `max_in_flight_per_address` being answered.
    Address,
}

impl std::fmt::Debug for Guard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guard")
            .field("rate_limits", &self.per_ip.is_some())
            .finish_non_exhaustive()
    }
}

fn keyed(enabled: bool, per_minute: u32) -> Option<Keyed> {
    let n = NonZeroU32::new(per_minute)?;
    enabled.then(|| RateLimiter::keyed(Quota::per_minute(n)))
}

/// Which limit a path falls under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// Health and the node's own public documents: never limited.
    Free,
    SignIn,
    Federation,
    Api,
}

fn class(path: &str) -> Class {
    if matches!(
        path,
        "/healthz" | "/readyz" | "/api/v1/healthz" | "/api/v1/readyz" | "/metrics"
    ) || path.starts_with("/.well-known/")
        || path.starts_with("/assets/")
    {
        Class::Free
    } else if path.starts_with("/api/v1/auth/")
        || path == "/oauth/token"
        || path.starts_with("/sign-in")
    {
        Class::SignIn
    } else if path.starts_with("/federation/") {
        Class::Federation
    } else {
        Class::Api
    }
}

/// The path as the router sees it (percent-encoded unreserved characters decoded): limits and
/// classes apply to the route a request reaches, so `/api/v1/%61uth/login` is sign-in too.
fn routed_path(req: &ServiceRequest) -> &str {
    req.match_info().as_str()
}

fn digest(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .take(12)
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Guard {
    pub fn from_config(c: &SecurityConfig, max_in_flight: usize, max_per_address: usize) -> Self {
        let r = &c.rate_limits;
        Self {
            per_ip: keyed(r.enabled, r.per_ip_per_minute),
            per_token: keyed(r.enabled, r.per_token_per_minute),
            sign_in: keyed(r.enabled, r.sign_in_per_ip_per_minute),
            federation_ip: keyed(r.enabled, r.federation_per_ip_per_minute),
            federation_member: keyed(r.enabled, r.federation_per_member_per_minute),
            cors: c.cors_origins.clone(),
            hsts: c.hsts,
            trust_forwarded_for: c.trust_forwarded_for,
            checks: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
            max_in_flight,
            by_address: Mutex::default(),
            max_per_address,
            shed: AtomicU64::new(0),
        }
    }

    /// A place among the requests in flight for a request from `address`, or why not. The last
    /// quarter of the places is kept for `known` requests (carrying an access token this node
    /// has verified before), so anonymous and unknown callers cannot take every place.
    /// `known` is asked only when that last quarter is reached, so a node with room does no work
    /// for it.
    fn enter(
        self: &std::sync::Arc<Self>,
        address: String,
        known: impl FnOnce() -> bool,
    ) -> Result<InFlight, Full> {
        let before = self.in_flight.fetch_add(1, Ordering::AcqRel);
        // Made before the checks, so everything taken is given back on every path.
        let mut place = InFlight {
            guard: self.clone(),
            address: None,
        };
        let open_to_all = self.max_in_flight - self.max_in_flight / 4;
        if before >= self.max_in_flight || (before >= open_to_all && !known()) {
            self.shed.fetch_add(1, Ordering::Relaxed);
            return Err(Full::Node);
        }
        let mut by = self
            .by_address
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let n = by.entry(address.clone()).or_insert(0);
        *n += 1;
        let over = *n > self.max_per_address;
        drop(by);
        place.address = Some(address);
        if over {
            self.shed.fetch_add(1, Ordering::Relaxed);
            return Err(Full::Address);
        }
        Ok(place)
    }

    /// Requests being answered now, and those turned away since start for being over
    /// `max_in_flight`, for /metrics.
    pub fn load(&self) -> (usize, u64) {
        (
            self.in_flight.load(Ordering::Relaxed),
            self.shed.load(Ordering::Relaxed),
        )
    }

    fn client_address(&self, req: &ServiceRequest) -> String {
        self.address_of(req.headers(), req.peer_addr())
    }

    /// The client's address: the peer, or behind a trusted proxy the last `X-Forwarded-For`
    /// entry of the last such header (the one the proxy added).
    pub fn address_of(
        &self,
        headers: &header::HeaderMap,
        peer: Option<std::net::SocketAddr>,
    ) -> String {
        if self.trust_forwarded_for
            && let Some(last) = headers
                .get_all("x-forwarded-for")
                .last()
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.rsplit(',').next())
        {
            return last.trim().to_owned();
        }
        peer.map(|a| a.ip().to_string()).unwrap_or_default()
    }

    /// Counts one sign-in attempt made through GraphQL against the same per-address allowance
    /// as the REST sign-in routes (each aliased attempt counts).
    pub fn sign_in_attempt(&self, address: &str) -> Result<(), alongside_core::CoreError> {
        let Some(limiter) = &self.sign_in else {
            return Ok(());
        };
        limiter.check_key(&address.to_owned()).map_err(|not_until| {
            let secs = not_until.wait_time_from(DefaultClock::default().now()).as_secs() + 1;
            alongside_core::CoreError::RateLimited {
                message: format!(
                    "too many sign-in attempts; try again in {secs} s (security.rate_limits.sign_in_per_ip_per_minute)"
                ),
                retry_after_secs: secs,
            }
        })
    }

    /// Counts one verified federation call against its member's allowance; the seconds to wait
    /// if it is over. Called only after the call's signature is verified, so a forged claim can
    /// neither escape the limit nor use up a real member's allowance.
    pub fn member_call(&self, member: &str) -> Result<(), u64> {
        let Some(limiter) = &self.federation_member else {
            return Ok(());
        };
        limiter.check_key(&member.to_owned()).map_err(|not_until| {
            not_until
                .wait_time_from(DefaultClock::default().now())
                .as_secs()
                + 1
        })
    }

    /// Seconds to wait, if the request is over a limit.
    fn over_limit(&self, req: &ServiceRequest) -> Option<(u64, &'static str)> {
        // Forget idle keys now and then, so the maps hold only recent clients.
        if self.checks.fetch_add(1, Ordering::Relaxed) % 4096 == 4095 {
            for l in [
                &self.per_ip,
                &self.per_token,
                &self.sign_in,
                &self.federation_ip,
                &self.federation_member,
            ]
            .into_iter()
            .flatten()
            {
                l.retain_recent();
                l.shrink_to_fit();
            }
        }
        let ip = || self.client_address(req);
        // The key is made only for a limit that is on (a token's is a digest).
        let check =
            |limiter: &Option<Keyed>, key: &dyn Fn() -> Option<String>, what: &'static str| {
                let limiter = limiter.as_ref()?;
                limiter.check_key(&key()?).err().map(|not_until| {
                    let wait = not_until.wait_time_from(DefaultClock::default().now());
                    (wait.as_secs() + 1, what)
                })
            };
        match class(routed_path(req)) {
            Class::Free => None,
            Class::SignIn => check(
                &self.sign_in,
                &|| Some(ip()),
                "security.rate_limits.sign_in_per_ip_per_minute",
            ),
            Class::Federation => check(
                &self.federation_ip,
                &|| Some(ip()),
                "security.rate_limits.federation_per_ip_per_minute",
            ),
            Class::Api => check(
                &self.per_ip,
                &|| Some(ip()),
                "security.rate_limits.per_ip_per_minute",
            )
            .or_else(|| {
                let token = || {
                    req.headers()
                        .get(header::AUTHORIZATION)
                        .and_then(|v| v.to_str().ok())
                        .map(digest)
                };
                check(
                    &self.per_token,
                    &token,
                    "security.rate_limits.per_token_per_minute",
                )
            }),
        }
    }

    fn allowed_origin(&self, req: &ServiceRequest) -> Option<HeaderValue> {
        let origin = req.headers().get(header::ORIGIN)?;
        let text = origin.to_str().ok()?;
        self.cors.iter().any(|o| o == text).then(|| origin.clone())
    }

    fn decorate(&self, res: &mut HttpResponse<BoxBody>, path: &str, origin: Option<HeaderValue>) {
        let h = res.headers_mut();
        let set = |h: &mut header::HeaderMap, name: HeaderName, value: &'static str| {
            if !h.contains_key(&name) {
                h.insert(name, HeaderValue::from_static(value));
            }
        };
        set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
        set(h, header::X_FRAME_OPTIONS, "DENY");
        set(h, header::REFERRER_POLICY, "no-referrer");
        set(
            h,
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        );
        set(
            h,
            HeaderName::from_static("permissions-policy"),
            "camera=(), microphone=(), geolocation=()",
        );
        // GraphiQL (development only) is the one page that runs scripts.
        if path != "/graphiql" {
            set(
                h,
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; frame-ancestors 'none'",
            );
        }
        set(h, header::CACHE_CONTROL, "no-store");
        if self.hsts {
            set(
                h,
                header::STRICT_TRANSPORT_SECURITY,
                "max-age=31536000; includeSubDomains",
            );
        }
        if let Some(origin) = origin {
            h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
            h.insert(
                header::ACCESS_CONTROL_EXPOSE_HEADERS,
                HeaderValue::from_static("retry-after"),
            );
            h.append(header::VARY, HeaderValue::from_static("Origin"));
        }
    }
}

/// The middleware: preflight, limits, then the route, then headers.
pub async fn guard(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(guard) = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.guard.clone())
    else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let path = routed_path(&req).to_owned();
    let origin = guard.allowed_origin(&req);
    let preflight = req.method() == actix_web::http::Method::OPTIONS
        && req.headers().contains_key(header::ORIGIN)
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    if preflight {
        let mut res = HttpResponse::NoContent().finish();
        if origin.is_some() {
            let h = res.headers_mut();
            h.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("GET, POST, OPTIONS"),
            );
            h.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static(
                    "authorization, content-type, idempotency-key, traceparent",
                ),
            );
            h.insert(
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static("600"),
            );
        }
        guard.decorate(&mut res, &path, origin);
        return Ok(req.into_response(res));
    }
    if let Some((secs, limit)) = guard.over_limit(&req) {
        tracing::info!(limit, "rate limited");
        let mut res = Problem::rate_limited(
            format!("too many requests; try again in {secs} s ({limit})"),
            secs,
        )
        .error_response();
        guard.decorate(&mut res, &path, origin);
        return Ok(req.into_response(res));
    }
    // Over the limit, a prompt "busy, try again" costs little; queueing would cost every
    // request its latency, then its connection (see `max_in_flight`).
    if class(&path) != Class::Free {
        // The body first, outside the places in flight: a slow sender holds only its socket.
        let mut req = req;
        let (limit, deadline) = req
            .app_data::<web::Data<AppState>>()
            .map(|s| {
                (
                    s.config.limits.body_bytes,
                    std::time::Duration::from_millis(s.config.limits.body_deadline_ms),
                )
            })
            .unwrap_or((64 * 1024, std::time::Duration::from_secs(10)));
        if let Err(problem) = super::body::buffer(&mut req, limit, deadline).await {
            tracing::info!(
                status = problem.status_code().as_u16(),
                "request body refused"
            );
            // Each API answers in its own shape, as it would have had the route read the body.
            let mut res = if path == "/graphql" {
                super::graphql::from_problem(problem)
            } else {
                problem.error_response()
            };
            guard.decorate(&mut res, &path, origin);
            return Ok(req.into_response(res));
        }
        let known = || {
            req.headers()
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .zip(req.app_data::<web::Data<AppState>>())
                .is_some_and(|(token, s)| s.tokens.verified_before(token.trim()).is_some())
        };
        match guard.enter(guard.client_address(&req), known) {
            Ok(place) => {
                let res = next.call(req).await?;
                drop(place);
                let (req, mut res) = res.map_into_boxed_body().into_parts();
                guard.decorate(&mut res, &path, origin);
                return Ok(ServiceResponse::new(req, res));
            }
            Err(Full::Node) => {
                let mut res = Problem::from(alongside_core::CoreError::Busy {
                    detail: format!("{} requests in flight (max_in_flight)", guard.max_in_flight),
                })
                .error_response();
                guard.decorate(&mut res, &path, origin);
                return Ok(req.into_response(res));
            }
            Err(Full::Address) => {
                let mut res = Problem::rate_limited(
                    format!(
                        "{} requests from this address are being answered already \
                         (max_in_flight_per_address); wait for one to finish",
                        guard.max_per_address
                    ),
                    1,
                )
                .error_response();
                guard.decorate(&mut res, &path, origin);
                return Ok(req.into_response(res));
            }
        }
    }
    let res = next.call(req).await?;
    let (req, mut res) = res.map_into_boxed_body().into_parts();
    guard.decorate(&mut res, &path, origin);
    Ok(ServiceResponse::new(req, res))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_address_cannot_take_every_place() {
        let guard = std::sync::Arc::new(Guard::from_config(&SecurityConfig::default(), 4, 2));
        let a1 = guard.enter("10.0.0.1".into(), || true).ok().unwrap();
        let a2 = guard.enter("10.0.0.1".into(), || true).ok().unwrap();
        assert!(matches!(
            guard.enter("10.0.0.1".into(), || true),
            Err(Full::Address)
        ));
        let b1 = guard.enter("10.0.0.2".into(), || true).ok().unwrap();
        let b2 = guard.enter("10.0.0.2".into(), || true).ok().unwrap();
        assert!(matches!(
            guard.enter("10.0.0.3".into(), || true),
            Err(Full::Node)
        ));
        drop((a1, b1));
        let again = guard.enter("10.0.0.1".into(), || true).ok().unwrap();
        drop((a2, b2, again));
        assert_eq!(guard.load().0, 0, "every place given back");
        assert!(guard.by_address.lock().unwrap().is_empty());
    }

    #[test]
    fn unknown_callers_cannot_take_the_last_quarter() {
        let guard = std::sync::Arc::new(Guard::from_config(&SecurityConfig::default(), 4, 4));
        let held: Vec<_> = (0..3)
            .map(|n| guard.enter(format!("10.0.1.{n}"), || false).ok().unwrap())
            .collect();
        assert!(matches!(
            guard.enter("10.0.1.9".into(), || false),
            Err(Full::Node)
        ));
        let known = guard.enter("10.0.2.1".into(), || true).ok().unwrap();
        assert!(matches!(
            guard.enter("10.0.2.2".into(), || true),
            Err(Full::Node)
        ));
        drop((held, known));
        assert_eq!(guard.load().0, 0);
    }
}
