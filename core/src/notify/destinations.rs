//! Where webhooks may go. A webhook URL is chosen by whoever holds an admin token, and the node
//! sits inside the hospital's network: without this rule a webhook could make the node post to
//! its own `/metrics`, to a cloud metadata service (`169.254.169.254`) or to any internal system.
//! So webhooks reach public addresses only, unless the institution's configuration allows a
//! network (`outbox.webhook_allowed_networks`, for a partner app inside the hospital). The rule
//! is checked when an endpoint is registered (its URL) and again at every delivery, on the
//! addresses the name resolves to, which are the only ones the delivery may connect to, so a
//! name that changes its answer after registration (DNS rebinding) gains nothing.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::LazyLock;

use ipnet::IpNet;

use crate::error::CoreError;

/// Networks that are not the public internet: this host, private and shared networks, link-local
/// (where cloud metadata services answer), multicast, documentation and reserved ranges.
const NOT_PUBLIC: [&str; 25] = [
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.0.2.0/24",
    "192.88.99.0/24",
    "192.168.0.0/16",
    "198.18.0.0/15",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "224.0.0.0/4",
    "240.0.0.0/4",
    "::/128",
    "::1/128",
    "64:ff9b:1::/48",
    "100::/64",
    "2001::/32",
    "2001:db8::/32",
    "fc00::/7",
    "fe80::/10",
    "fec0::/10",
    "ff00::/8",
];

static NOT_PUBLIC_NETS: LazyLock<Vec<IpNet>> = LazyLock::new(|| {
    NOT_PUBLIC
        .iter()
        .filter_map(|n| n.parse::<IpNet>().ok())
        .collect()
});

/// The IPv4 address an IPv6 address carries, where it is only a wrapper for one: IPv4-mapped
/// (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`), NAT64 (`64:ff9b::a.b.c.d`) and 6to4
/// (`2002:aabb:ccdd::`). Judged as that IPv4 address.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    if let Some(v4) = ip.to_ipv4() {
        return Some(v4);
    }
    let s = ip.segments();
    let from = |hi: u16, lo: u16| {
        let [a, b] = hi.to_be_bytes();
        let [c, d] = lo.to_be_bytes();
        Ipv4Addr::new(a, b, c, d)
    };
    match s {
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => Some(from(hi, lo)),
        [0x2002, hi, lo, ..] => Some(from(hi, lo)),
        _ => None,
    }
}

/// Whether an address is on the public internet.
pub fn is_public(ip: IpAddr) -> bool {
    let ip = match ip {
        IpAddr::V6(v6) => embedded_v4(v6).map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    !NOT_PUBLIC_NETS.iter().any(|n| n.contains(&ip))
}

/// The destinations webhooks may reach: public addresses, and the networks the configuration
/// allows.
#[derive(Debug, Clone, Default)]
pub struct Destinations {
    allowed: Vec<IpNet>,
}

impl Destinations {
    /// From `outbox.webhook_allowed_networks`: networks (`10.20.0.0/16`, `fd00::/8`) or single
    /// addresses.
    pub fn new(allowed: &[String]) -> Result<Self, CoreError> {
        let allowed = allowed
            .iter()
            .map(|n| {
                n.parse::<IpNet>()
                    .or_else(|_| n.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| {
                        CoreError::bad_input(
                            "outbox.webhook_allowed_networks",
                            format!(
                                "{n:?} is not a network or an address; write it like \
                                 10.20.0.0/16, 192.168.4.7 or fd00::/8"
                            ),
                        )
                    })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { allowed })
    }

    /// Whether a webhook may connect to this address.
    pub fn permits(&self, ip: IpAddr) -> bool {
        is_public(ip) || self.allowed.iter().any(|n| n.contains(&ip))
    }

    /// Checks a webhook URL: http or https, a host, and, where the host is an address (or
    /// `localhost`, which is this machine), one this node may reach. A name is resolved and
    /// checked at each delivery. `field` names the input in the error.
    pub fn check_url(&self, field: &str, raw: &str) -> Result<url::Url, CoreError> {
        let parsed = url::Url::parse(raw)
            .map_err(|e| CoreError::bad_input(field, format!("is not a URL ({e})")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(CoreError::bad_input(field, "must be an http(s) URL"));
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(CoreError::bad_input(
                field,
                "must not carry a user name or password; deliveries are signed instead",
            ));
        }
        let refused = |what: String| {
            CoreError::bad_input(
                field,
                format!(
                    "{what}, which webhooks may not reach (this host, private, link-local or \
                     metadata addresses); an operator can allow a network with \
                     outbox.webhook_allowed_networks"
                ),
            )
        };
        match parsed.host() {
            None => Err(CoreError::bad_input(field, "must name a host")),
            Some(url::Host::Ipv4(ip)) if !self.permits(IpAddr::V4(ip)) => {
                Err(refused(format!("points at {ip}")))
            }
            Some(url::Host::Ipv6(ip)) if !self.permits(IpAddr::V6(ip)) => {
                Err(refused(format!("points at {ip}")))
            }
            Some(url::Host::Domain(name))
                if is_localhost(name) && !self.permits(IpAddr::V4(Ipv4Addr::LOCALHOST)) =>
            {
                Err(refused(format!("points at {name}")))
            }
            Some(_) => Ok(parsed),
        }
    }

    /// At delivery: the address written in a URL, if it is one webhooks may not reach. A name
    /// is left to resolution, which hands the connection permitted addresses only.
    pub fn refused_address(&self, raw: &str) -> Option<String> {
        let Ok(parsed) = url::Url::parse(raw) else {
            return Some("the URL does not parse".into());
        };
        let ip = match parsed.host()? {
            url::Host::Ipv4(ip) => IpAddr::V4(ip),
            url::Host::Ipv6(ip) => IpAddr::V6(ip),
            url::Host::Domain(_) => return None,
        };
        (!self.permits(ip)).then(|| format!("{ip} is an address webhooks may not reach"))
    }
}

/// `localhost` and its subdomains always mean this machine (RFC 6761).
fn is_localhost(name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost" || name.ends_with(".localhost")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn every_listed_network_parses() {
        assert_eq!(NOT_PUBLIC_NETS.len(), NOT_PUBLIC.len());
    }

    #[test]
    fn internal_addresses_are_not_public_in_any_spelling() {
        for s in [
            "127.0.0.1",
            "169.254.169.254",
            "10.1.2.3",
            "172.31.0.1",
            "192.168.1.1",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "::1",
            "::",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::",
            "fd00:ec2::254",
            "fe80::1",
        ] {
            assert!(!is_public(ip(s)), "{s} counted as public");
        }
        for s in [
            "93.184.215.14",
            "1.1.1.1",
            "2606:4700:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(is_public(ip(s)), "{s} counted as internal");
        }
    }

    #[test]
    fn urls_are_checked_by_their_host() {
        let none = Destinations::default();
        for bad in [
            "http://169.254.169.254/latest/meta-data/",
            "http://127.0.0.1:8080/metrics",
            "http://[::1]/x",
            "http://[::ffff:7f00:1]/x",
            "http://2130706433/",
            "http://0x7f.1/",
            "http://localhost:9000/",
            "http://app.localhost./",
            "ftp://hooks.example.org/",
            "http://user:pw@hooks.example.org/",
            "not a url",
        ] {
            assert!(none.check_url("url", bad).is_err(), "{bad} accepted");
        }
        assert!(none.check_url("url", "https://hooks.example.org/a").is_ok());
        let inside = Destinations::new(&["127.0.0.0/8".into(), "10.20.0.5".into()]).unwrap();
        assert!(
            inside
                .check_url("url", "http://127.0.0.1:8080/hook")
                .is_ok()
        );
        assert!(inside.check_url("url", "http://localhost/hook").is_ok());
        assert!(inside.permits(ip("10.20.0.5")) && !inside.permits(ip("10.20.0.6")));
        assert!(Destinations::new(&["10.0.0.0/33".into()]).is_err());
        assert!(none.refused_address("http://[::1]:80/").is_some());
        assert_eq!(
            none.refused_address("http://localhost/"),
            None,
            "names are resolved"
        );
        assert_eq!(inside.refused_address("http://127.0.0.1/"), None);
    }
}
