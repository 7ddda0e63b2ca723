//! The one outbound HTTP client for federation: every fetch and delivery goes
//! through it, so the SSRF rules, timeouts and size limits hold everywhere.
//!
//! - URLs: `https` without an explicit port in production; the development
//!   mode also allows `http` and ports (several instances on loopback).
//! - Addresses: after DNS resolution, loopback, private, link-local, CGNAT,
//!   multicast and unspecified addresses are refused (IPv4-mapped IPv6
//!   included); the development mode allows loopback only, and its
//!   `[federation.resolve]` map names hosts without touching /etc/hosts.
//! - At most one redirect, re-checked; connect 5 s, whole request 10 s;
//!   response bodies up to 1 MiB.
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

use super::signatures::{self, PrivateKey};
use crate::config::{Config, FederationMode};

pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
pub const MAX_BODY: usize = 1024 * 1024;
pub const ACCEPT_AP: &str = "application/activity+json, application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"";

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("refused URL {0}: {1}")]
    Refused(String, &'static str),
    #[error("{0} answered {1}")]
    Status(String, u16),
    #[error("{0}: response larger than {MAX_BODY} bytes")]
    TooLarge(String),
    #[error("{0}: {1}")]
    Transport(String, String),
    #[error("{0}: not JSON: {1}")]
    NotJson(String, String),
}

impl FetchError {
    /// Worth trying again later (the remote may recover)?
    pub fn retryable(&self) -> bool {
        match self {
            FetchError::Status(_, s) => *s == 408 || *s == 429 || *s >= 500,
            FetchError::Transport(..) => true,
            _ => false,
        }
    }
}

/// Which addresses a remote URL may resolve to.
#[derive(Clone, Debug)]
struct Policy {
    development: bool,
    resolve: Arc<BTreeMap<String, SocketAddr>>,
    /// Domain blocks and the allow-list, as an admin set them.
    domains: Arc<crate::services::settings::Live>,
}

impl Policy {
    fn ip_allowed(&self, ip: IpAddr) -> bool {
        if self.development && ip.to_canonical().is_loopback() {
            return true;
        }
        public_ip(ip)
    }

    /// Scheme, port and literal-address rules, before any connection.
    fn check_url(&self, url: &Url) -> Result<(), &'static str> {
        match url.scheme() {
            "https" => {}
            "http" if self.development => {}
            _ => return Err("only https URLs are fetched"),
        }
        if !self.development && url.port().is_some() {
            return Err("explicit ports are refused outside the development mode");
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("URLs with credentials are refused");
        }
        if let Some(host) = url.host_str()
            && self.domains.get().domains.refuses(host)
        {
            return Err("this server does not federate with that domain");
        }
        match url.host() {
            None => Err("no host"),
            Some(Host::Ipv4(ip)) if !self.ip_allowed(IpAddr::V4(ip)) => Err("address not allowed"),
            Some(Host::Ipv6(ip)) if !self.ip_allowed(IpAddr::V6(ip)) => Err("address not allowed"),
            Some(Host::Domain(d)) if d.eq_ignore_ascii_case("localhost") && !self.development => {
                Err("address not allowed")
            }
            _ => Ok(()),
        }
    }
}

/// True for globally routable unicast addresses.
pub fn public_ip(ip: IpAddr) -> bool {
    match ip.to_canonical() {
        IpAddr::V4(v4) => public_v4(v4),
        IpAddr::V6(v6) => public_v6(v6),
    }
}

fn public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // CGNAT
        || (a == 192 && b == 0 && ip.octets()[2] == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240)
}

fn public_v6(ip: Ipv6Addr) -> bool {
    let seg = ip.segments();
    let first = seg[0];
    // IPv4-compatible (`::a.b.c.d`, deprecated; some stacks still route it
    // to the IPv4 address) and 6to4 (`2002:AABB:CCDD::`) carry an IPv4
    // address: judged by that address.
    if seg[..6] == [0; 6] {
        return false;
    }
    if first == 0x2002 {
        let v4 = Ipv4Addr::new(
            (seg[1] >> 8) as u8,
            seg[1] as u8,
            (seg[2] >> 8) as u8,
            seg[2] as u8,
        );
        return public_v4(v4);
    }
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00 // unique local
        || (first & 0xffc0) == 0xfe80 // link-local
        || (first == 0x2001 && ip.segments()[1] == 0x0db8) // documentation
        || (first == 0x0064 && ip.segments()[1] == 0xff9b)) // NAT64 to anything
}

/// The resolver's refusal: the host resolves only to addresses we never
/// call (loopback, private, ...). Final, unlike a failed lookup.
#[derive(Debug)]
struct NoAllowedAddress(String);

impl std::fmt::Display for NoAllowedAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} resolves to no allowed address", self.0)
    }
}

impl std::error::Error for NoAllowedAddress {}

impl Resolve for Policy {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.clone();
        Box::pin(async move {
            let host = name.as_str().to_ascii_lowercase();
            if policy.development
                && let Some(addr) = policy.resolve.get(&host)
            {
                let addrs: Addrs = Box::new(std::iter::once(*addr));
                return Ok(addrs);
            }
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| policy.ip_allowed(a.ip()))
                .collect();
            if found.is_empty() {
                return Err(NoAllowedAddress(host).into());
            }
            let addrs: Addrs = Box::new(found.into_iter());
            Ok(addrs)
        })
    }
}

/// Makes ring the process-wide TLS provider (once; later calls do nothing).
/// Every reqwest client of the process needs it, tests' clients included.
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A signer for outgoing requests: a local actor's key and its keyId.
pub struct Signer {
    pub key_id: String,
    pub key: Arc<PrivateKey>,
}

/// How a request is signed: draft-cavage first; RFC 9421 for a host that
/// answered 401 to it and accepted RFC 9421 ("double-knocking").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignatureScheme {
    Cavage,
    Rfc9421,
}

impl SignatureScheme {
    fn other(self) -> SignatureScheme {
        match self {
            SignatureScheme::Cavage => SignatureScheme::Rfc9421,
            SignatureScheme::Rfc9421 => SignatureScheme::Cavage,
        }
    }
}

/// Hosts remembered for [`SignatureScheme`] (beyond this, forgotten).
const MAX_REMEMBERED_HOSTS: usize = 10_000;

#[derive(Clone)]
pub struct FedClient {
    client: reqwest::Client,
    policy: Policy,
    user_agent: String,
    /// Hosts that accepted only RFC 9421 (kept in memory, per node).
    schemes: Arc<std::sync::Mutex<std::collections::HashMap<String, SignatureScheme>>>,
}

impl FedClient {
    pub fn new(
        config: &Config,
        domains: Arc<crate::services::settings::Live>,
    ) -> anyhow::Result<FedClient> {
        install_tls_provider();
        let development = config.federation.mode == FederationMode::Development;
        let mut resolve = BTreeMap::new();
        for (host, addr) in &config.federation.resolve {
            resolve.insert(host.to_ascii_lowercase(), addr.parse()?);
        }
        let policy = Policy {
            development,
            resolve: Arc::new(resolve),
            domains,
        };
        let redirect_policy = policy.clone();
        let client = reqwest::Client::builder()
            .dns_resolver(Arc::new(policy.clone()))
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .redirect(reqwest::redirect::Policy::custom(move |attempt| {
                if attempt.previous().len() > 1 {
                    attempt.error("more than one redirect")
                } else if let Err(why) = redirect_policy.check_url(attempt.url()) {
                    attempt.error(why)
                } else {
                    attempt.follow()
                }
            }))
            .pool_max_idle_per_host(8)
            .build()?;
        Ok(FedClient {
            client,
            policy,
            user_agent: format!(
                "tsunagu/{} (+{})",
                env!("CARGO_PKG_VERSION"),
                config.base_url()
            ),
            schemes: Arc::default(),
        })
    }

    /// The scheme `url`'s host accepted last (draft-cavage until told otherwise).
    pub fn scheme_for(&self, url: &Url) -> SignatureScheme {
        let hosts = self.schemes.lock().unwrap_or_else(|e| e.into_inner());
        hosts
            .get(&super::delivery::authority(url))
            .copied()
            .unwrap_or(SignatureScheme::Cavage)
    }

    fn remember(&self, url: &Url, scheme: SignatureScheme) {
        let mut hosts = self.schemes.lock().unwrap_or_else(|e| e.into_inner());
        if hosts.len() >= MAX_REMEMBERED_HOSTS {
            hosts.clear();
        }
        hosts.insert(super::delivery::authority(url), scheme);
    }

    /// Sends a signed request, signed the way its host accepted last; on 401
    /// once more with the other scheme, remembered when it is accepted.
    async fn send_signed(
        &self,
        url: &Url,
        build: impl Fn() -> reqwest::RequestBuilder,
        method: &str,
        body: Option<&[u8]>,
        signer: &Signer,
    ) -> Result<reqwest::Response, FetchError> {
        let first = self.scheme_for(url);
        let send = async |scheme| {
            let mut req = build();
            for (k, v) in sign_headers(signer, method, url, body, scheme) {
                req = req.header(k, v);
            }
            req.send().await.map_err(|e| transport(url, e))
        };
        let resp = send(first).await?;
        if resp.status() != reqwest::StatusCode::UNAUTHORIZED {
            return Ok(resp);
        }
        let again = send(first.other()).await?;
        if again.status().is_success() {
            self.remember(url, first.other());
        }
        Ok(again)
    }

    pub fn check_url(&self, url: &Url) -> Result<(), FetchError> {
        self.policy
            .check_url(url)
            .map_err(|why| FetchError::Refused(url.to_string(), why))
    }

    /// GET an ActivityPub document (signed when a signer is given, as
    /// instances with authorized fetch require).
    pub async fn get_json(
        &self,
        url: &Url,
        signer: Option<&Signer>,
    ) -> Result<serde_json::Value, FetchError> {
        self.get(url, ACCEPT_AP, signer).await.and_then(|b| {
            serde_json::from_slice(&b)
                .map_err(|e| FetchError::NotJson(url.to_string(), e.to_string()))
        })
    }

    /// GET with any Accept (WebFinger, NodeInfo); the body is capped.
    pub async fn get(
        &self,
        url: &Url,
        accept: &str,
        signer: Option<&Signer>,
    ) -> Result<Vec<u8>, FetchError> {
        self.check_url(url)?;
        let build = || {
            self.client
                .get(url.clone())
                .header("Accept", accept)
                .header("User-Agent", &self.user_agent)
        };
        // Waiting on the network holds no work slot (see `super::slots`).
        super::slots::while_waiting(async {
            let resp = match signer {
                Some(s) => self.send_signed(url, build, "GET", None, s).await?,
                None => build().send().await.map_err(|e| transport(url, e))?,
            };
            read_body(url, resp).await
        })
        .await
    }

    /// POST a signed activity to an inbox.
    pub async fn post_activity(
        &self,
        inbox: &Url,
        body: &[u8],
        signer: &Signer,
    ) -> Result<(), FetchError> {
        self.check_url(inbox)?;
        let build = || {
            self.client
                .post(inbox.clone())
                .header("Content-Type", "application/activity+json")
                .header("Accept", ACCEPT_AP)
                .header("User-Agent", &self.user_agent)
                .body(body.to_vec())
        };
        let resp = self
            .send_signed(inbox, build, "POST", Some(body), signer)
            .await?;
        read_body(inbox, resp).await.map(|_| ())
    }
}

fn transport(url: &Url, e: reqwest::Error) -> FetchError {
    // Our own refusals (a redirect we do not follow, a host that resolves
    // only to forbidden addresses) are final: trying again changes nothing.
    if e.is_redirect() {
        return FetchError::Refused(url.to_string(), "redirect not followed");
    }
    // The chain carries the useful part (refused address, timeout, ...).
    let mut msg = e.to_string();
    let mut src = std::error::Error::source(&e);
    while let Some(s) = src {
        if s.downcast_ref::<NoAllowedAddress>().is_some() {
            return FetchError::Refused(url.to_string(), "resolves to no allowed address");
        }
        msg = format!("{msg}: {s}");
        src = s.source();
    }
    FetchError::Transport(url.to_string(), msg)
}

fn sign_headers(
    s: &Signer,
    method: &str,
    url: &Url,
    body: Option<&[u8]>,
    scheme: SignatureScheme,
) -> Vec<(&'static str, String)> {
    let host = match url.port() {
        Some(p) => format!("{}:{p}", url.host_str().unwrap_or_default()),
        None => url.host_str().unwrap_or_default().to_owned(),
    };
    if scheme == SignatureScheme::Rfc9421 {
        let now = SystemTime::now();
        let mut headers = vec![("Date", httpdate::fmt_http_date(now))];
        headers.extend(super::message_signatures::sign(
            &s.key,
            &s.key_id,
            method,
            url.as_str(),
            &host,
            body,
            now,
        ));
        return headers;
    }
    let path = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    };
    signatures::sign_request(
        &s.key,
        &s.key_id,
        method,
        &path,
        &host,
        body,
        SystemTime::now(),
    )
}

async fn read_body(url: &Url, mut resp: reqwest::Response) -> Result<Vec<u8>, FetchError> {
    let status = resp.status();
    if resp.content_length().is_some_and(|l| l as usize > MAX_BODY) {
        return Err(FetchError::TooLarge(url.to_string()));
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| transport(url, e))? {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(FetchError::TooLarge(url.to_string()));
        }
        body.extend_from_slice(&chunk);
    }
    if !status.is_success() {
        return Err(FetchError::Status(url.to_string(), status.as_u16()));
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(development: bool) -> Policy {
        Policy {
            development,
            resolve: Arc::new(BTreeMap::new()),
            domains: no_rules(),
        }
    }

    fn no_rules() -> Arc<crate::services::settings::Live> {
        Arc::new(crate::services::settings::Live::new(Arc::default()))
    }

    #[test]
    fn production_refuses_private_addresses_http_and_ports() {
        let p = policy(false);
        for bad in [
            "http://example.com/a",
            "https://example.com:8443/a",
            "https://127.0.0.1/a",
            "https://10.0.0.1/a",
            "https://169.254.169.254/latest/meta-data",
            "https://[::1]/a",
            "https://[::ffff:127.0.0.1]/a",
            "https://[::127.0.0.1]/a",
            "https://0x7f.1/a",
            "https://localhost/a",
            "https://192.168.1.1/",
            "https://100.64.0.1/",
            "https://[fd00::1]/",
            "https://[fe80::1]/",
            "https://0.0.0.0/",
            "https://user:pw@example.com/",
            "ftp://example.com/",
        ] {
            let url = Url::parse(bad).unwrap();
            assert!(p.check_url(&url).is_err(), "{bad} must be refused");
        }
        for good in ["https://example.com/users/a", "https://93.184.216.34/x"] {
            assert_eq!(p.check_url(&Url::parse(good).unwrap()), Ok(()), "{good}");
        }
    }

    #[test]
    fn development_allows_loopback_http_and_ports_only() {
        let p = policy(true);
        assert!(
            p.check_url(&Url::parse("http://alpha.test:8101/inbox").unwrap())
                .is_ok()
        );
        assert!(
            p.check_url(&Url::parse("http://127.0.0.1:8101/").unwrap())
                .is_ok()
        );
        assert!(
            p.check_url(&Url::parse("http://10.1.2.3/").unwrap())
                .is_err()
        );
        assert!(
            p.check_url(&Url::parse("http://169.254.169.254/").unwrap())
                .is_err()
        );
        assert!(p.ip_allowed("::ffff:127.0.0.1".parse().unwrap()));
    }

    #[test]
    fn resolved_addresses_are_checked() {
        for ip in [
            "127.0.0.1",
            "10.0.0.8",
            "172.16.0.1",
            "169.254.169.254",
            "::1",
            "::ffff:10.0.0.1",
            "fc00::1",
            "64:ff9b::7f00:1",
            // IPv4-compatible and 6to4 forms of inside addresses.
            "::127.0.0.1",
            "::10.0.0.1",
            "::169.254.169.254",
            "2002:7f00:1::1",
            "2002:a9fe:a9fe::1",
        ] {
            assert!(!public_ip(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"] {
            assert!(public_ip(ip.parse().unwrap()), "{ip}");
        }
    }

    #[tokio::test]
    async fn the_resolver_refuses_names_that_point_inside() {
        let p = policy(false);
        // "localhost" resolves to loopback: nothing allowed remains.
        let r = p.resolve("localhost".parse::<Name>().unwrap()).await;
        assert!(r.is_err());
        let mut map = BTreeMap::new();
        map.insert("beta.test".to_owned(), "127.0.0.1:8102".parse().unwrap());
        let dev = Policy {
            development: true,
            resolve: Arc::new(map),
            domains: no_rules(),
        };
        let got: Vec<SocketAddr> = dev
            .resolve("beta.test".parse::<Name>().unwrap())
            .await
            .unwrap()
            .collect();
        assert_eq!(got, vec!["127.0.0.1:8102".parse::<SocketAddr>().unwrap()]);
    }
}
