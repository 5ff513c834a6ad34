//! Where deliveries may go. A webhook URL is chosen by whoever holds an integration or admin
//! token, so without a policy obliged would POST (and report what answered) to any address its
//! own network reaches: its database, a cloud metadata service, its own API. The policy refuses
//! loopback, private, link-local, unique-local, carrier-grade NAT, unspecified, broadcast and
//! multicast addresses, unless the operator allows a named host or a network for receivers that
//! really are internal.
//!
//! It is applied twice: when a subscription is made (an address written in the URL, or a name
//! such as `localhost` that can only be internal, is refused at once), and at connect time,
//! where the client's resolver resolves the name and hands the connector only the addresses the
//! policy permits. The connection uses exactly those addresses, so a name that resolves to a
//! public address when checked and to an internal one a moment later (DNS rebinding) never
//! reaches the internal one.

use std::error::Error;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use ipnet::IpNet;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::Url;

/// Hosts and networks deliveries may reach although they are internal.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EgressPolicy {
    hosts: Vec<String>,
    networks: Vec<IpNet>,
}

/// Why a destination is refused, in words an operator can act on (the host and what it is,
/// never what answered there).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EgressRefused {
    pub host: String,
    pub reason: String,
}

impl fmt::Display for EgressRefused {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "refused by the egress policy: {} {}; an operator can allow it with --webhook-allow",
            self.host, self.reason
        )
    }
}

impl Error for EgressRefused {}

impl EgressPolicy {
    /// A policy that allows, besides every public address, each entry of `allowed`: a host name
    /// (`receiver.internal`), an address (`10.1.2.3`) or a network (`10.1.0.0/16`, `::1/128`).
    pub fn allowing<S: AsRef<str>>(allowed: &[S]) -> Result<Self, String> {
        let mut policy = Self::default();
        for entry in allowed {
            let entry = entry.as_ref().trim();
            if entry.is_empty() {
                continue;
            }
            if let Ok(network) = entry.parse::<IpNet>() {
                policy.networks.push(network.trunc());
            } else if let Ok(address) = entry.parse::<IpAddr>() {
                policy.networks.push(IpNet::from(address));
            } else if is_host_name(entry) {
                policy
                    .hosts
                    .push(entry.trim_end_matches('.').to_ascii_lowercase());
            } else {
                return Err(format!(
                    "{entry:?} is neither a host name, an address, nor a network (10.0.0.0/8)"
                ));
            }
        }
        Ok(policy)
    }

    /// Whether the operator named this host.
    fn host_allowed(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.hosts.contains(&host)
    }

    /// Whether a delivery to `host` may connect to `address`.
    pub fn permits(&self, host: &str, address: IpAddr) -> bool {
        self.host_allowed(host)
            || self
                .networks
                .iter()
                .any(|network| network.contains(&address))
            || internal(address).is_none()
    }

    /// The check made when a subscription is created: a URL whose host is an address (in any
    /// of the forms URL parsing normalizes: `2130706433`, `0x7f.1`, `127.1`,
    /// `[::ffff:127.0.0.1]`) or a name that is internal by definition. Other names are checked
    /// when a delivery connects.
    pub fn check_url(&self, url: &Url) -> Result<(), EgressRefused> {
        match url.host() {
            None | Some(url::Host::Ipv4(_) | url::Host::Ipv6(_)) => self.check_address_host(url),
            Some(url::Host::Domain(name)) => {
                let name = name.trim_end_matches('.').to_ascii_lowercase();
                let internal_name = name == "localhost"
                    || name.ends_with(".localhost")
                    || name.ends_with(".internal")
                    || name.ends_with(".local");
                if internal_name && !self.host_allowed(&name) {
                    Err(EgressRefused {
                        host: name,
                        reason: "is an internal name".to_owned(),
                    })
                } else {
                    Ok(())
                }
            }
        }
    }

    /// The check made when a delivery connects to a URL whose host is an address, which never
    /// reaches a resolver; a URL with a name passes here and is checked by [`EgressResolver`].
    pub(crate) fn check_address_host(&self, url: &Url) -> Result<(), EgressRefused> {
        match url.host() {
            Some(host @ url::Host::Ipv4(address)) => {
                self.check_address(&host.to_string(), address.into())
            }
            Some(host @ url::Host::Ipv6(address)) => {
                self.check_address(&host.to_string(), address.into())
            }
            _ => Ok(()),
        }
    }

    fn check_address(&self, host: &str, address: IpAddr) -> Result<(), EgressRefused> {
        if self.permits(host, address) {
            return Ok(());
        }
        Err(EgressRefused {
            host: host.to_owned(),
            reason: format!("is a {} address", internal(address).unwrap_or("non-public")),
        })
    }
}

/// What kind of internal address `address` is, or `None` for a public one.
fn internal(address: IpAddr) -> Option<&'static str> {
    match address {
        IpAddr::V4(address) => internal_v4(address),
        IpAddr::V6(address) => {
            // An IPv4 address written as IPv6 (mapped `::ffff:a.b.c.d`, or the NAT64 prefix)
            // goes where the IPv4 address goes.
            if let Some(mapped) = address.to_ipv4_mapped() {
                return internal_v4(mapped);
            }
            let segments = address.segments();
            if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                let [a, b] = segments[6].to_be_bytes();
                let [c, d] = segments[7].to_be_bytes();
                return internal_v4(Ipv4Addr::new(a, b, c, d));
            }
            internal_v6(address)
        }
    }
}

fn internal_v4(address: Ipv4Addr) -> Option<&'static str> {
    let [first, second, ..] = address.octets();
    if address.is_loopback() {
        Some("loopback")
    } else if address.is_unspecified() || first == 0 {
        Some("unspecified")
    } else if address.is_private() {
        Some("private")
    } else if address.is_link_local() {
        Some("link-local")
    } else if first == 100 && (64..128).contains(&second) {
        Some("shared (carrier-grade NAT)")
    } else if address.is_broadcast() || address.is_multicast() || first >= 240 {
        Some("broadcast, multicast or reserved")
    } else {
        None
    }
}

fn internal_v6(address: Ipv6Addr) -> Option<&'static str> {
    let first = address.segments()[0];
    if address.is_loopback() {
        Some("loopback")
    } else if address.is_unspecified() {
        Some("unspecified")
    } else if first & 0xfe00 == 0xfc00 {
        Some("unique-local")
    } else if first & 0xffc0 == 0xfe80 || first & 0xffc0 == 0xfec0 {
        Some("link-local")
    } else if address.is_multicast() {
        Some("multicast")
    } else {
        None
    }
}

/// A host name as DNS has them: labels of letters, digits and hyphens.
fn is_host_name(text: &str) -> bool {
    let text = text.trim_end_matches('.');
    !text.is_empty()
        && text.len() <= 253
        && text.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .chars()
                    .all(|character| character.is_ascii_alphanumeric() || character == '-')
        })
}

/// The delivery client's resolver: the system's, filtered through the policy. Only permitted
/// addresses reach the connector, which connects to nothing else.
pub(crate) struct EgressResolver {
    pub policy: Arc<EgressPolicy>,
}

impl Resolve for EgressResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let resolved: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let permitted: Vec<SocketAddr> = resolved
                .iter()
                .copied()
                .filter(|address| policy.permits(&host, address.ip()))
                .collect();
            if permitted.is_empty() {
                let kinds: Vec<&str> = resolved
                    .iter()
                    .filter_map(|address| internal(address.ip()))
                    .collect();
                let reason = match kinds.first() {
                    Some(kind) => format!("resolves only to internal addresses ({kind})"),
                    None => "resolves to no address".to_owned(),
                };
                let refused: Box<dyn Error + Send + Sync> =
                    Box::new(EgressRefused { host, reason });
                return Err(refused);
            }
            let addresses: Addrs = Box::new(permitted.into_iter());
            Ok(addresses)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(raw: &str) -> Url {
        Url::parse(raw).unwrap()
    }

    #[test]
    fn every_internal_form_of_an_address_is_refused_when_subscribing() {
        let policy = EgressPolicy::default();
        for raw in [
            "http://127.0.0.1/hook",
            "http://[::1]/hook",
            "http://0.0.0.0/hook",
            "http://localhost:8080/hook",
            "http://api.localhost/hook",
            "http://169.254.169.254/latest/meta-data/",
            "http://2130706433/hook",
            "http://0x7f.1/hook",
            "http://127.1/hook",
            "http://[::ffff:127.0.0.1]/hook",
            "http://[::ffff:7f00:1]/hook",
            "http://[64:ff9b::a9fe:a9fe]/hook",
            "http://metadata.google.internal/computeMetadata/v1/",
            "http://10.0.0.8/hook",
            "http://172.16.0.1/hook",
            "http://192.168.1.1/hook",
            "http://100.64.0.1/hook",
            "http://[fd00::1]/hook",
            "http://[fe80::1]/hook",
            "http://255.255.255.255/hook",
        ] {
            let refused = policy.check_url(&url(raw));
            assert!(refused.is_err(), "{raw} was accepted");
        }
        for raw in [
            "https://hooks.example.com/obliged",
            "http://93.184.215.14/hook",
        ] {
            assert_eq!(policy.check_url(&url(raw)), Ok(()), "{raw}");
        }
    }

    #[test]
    fn an_operator_can_allow_named_hosts_and_networks() {
        let policy =
            EgressPolicy::allowing(&["10.1.0.0/16", "::1", "receiver.internal", "localhost"])
                .unwrap();
        assert_eq!(policy.check_url(&url("http://10.1.2.3/hook")), Ok(()));
        assert!(policy.check_url(&url("http://10.2.0.1/hook")).is_err());
        assert_eq!(policy.check_url(&url("http://[::1]:9000/hook")), Ok(()));
        assert_eq!(policy.check_url(&url("http://receiver.internal/")), Ok(()));
        assert_eq!(policy.check_url(&url("http://LOCALHOST/")), Ok(()));
        assert!(policy.permits("receiver.internal", "10.9.9.9".parse().unwrap()));
        assert!(!policy.permits("other.internal", "10.9.9.9".parse().unwrap()));
        assert!(EgressPolicy::allowing(&["not a host!"]).is_err());
    }

    #[tokio::test]
    async fn the_resolver_hands_the_connector_no_internal_address() {
        let resolver = EgressResolver {
            policy: Arc::new(EgressPolicy::default()),
        };
        let refused = resolver
            .resolve("localhost".parse().unwrap())
            .await
            .err()
            .expect("localhost resolves to loopback only");
        let refused = refused
            .downcast_ref::<EgressRefused>()
            .expect("an egress refusal");
        assert_eq!(refused.host, "localhost");
        assert!(refused.reason.contains("loopback"), "{refused}");

        let allowed = EgressResolver {
            policy: Arc::new(EgressPolicy::allowing(&["127.0.0.0/8", "::1"]).unwrap()),
        };
        let addresses: Vec<SocketAddr> = allowed
            .resolve("localhost".parse().unwrap())
            .await
            .expect("allowed")
            .collect();
        assert!(!addresses.is_empty());
        assert!(addresses.iter().all(|address| address.ip().is_loopback()));
    }
}
