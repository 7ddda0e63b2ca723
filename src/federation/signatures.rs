//! HTTP Signatures (draft-cavage-http-signatures-12, `rsa-sha256`) as Mastodon,
//! Lemmy and the rest of the fediverse use them, plus the `Digest` header;
//! RFC 9421 signatures are read and made in `message_signatures.rs`, and
//! [`parse_request`], [`precheck`] and [`verify`] take either.
//!
//! Signing and verification sit behind [`PrivateKey`] and [`PublicKey`] so the
//! RSA backend can change in one place. It is AWS-LC (aws-lc-rs, constant
//! time): on these machines it signs twice as fast as ring and as fast as
//! OpenSSL (`tsunagu-bench crypto`, docs/performance.md).
use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use aws_lc_rs::signature::{self, ParsedPublicKey, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use rsa::pkcs8::DecodePublicKey;
use rsa::traits::PublicKeyParts;
use sha2::{Digest as _, Sha256};

/// A signature older (or further in the future) than this is refused.
pub const MAX_CLOCK_SKEW: Duration = Duration::from_secs(3600);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SignatureError {
    #[error("no Signature header")]
    Missing,
    #[error("malformed Signature header: {0}")]
    Malformed(&'static str),
    #[error("unsupported signature algorithm {0}")]
    Algorithm(String),
    #[error("the signature does not cover {0}")]
    NotCovered(&'static str),
    #[error("the Date header is missing, malformed or outside the allowed window")]
    Stale,
    #[error("the signed host is not this server")]
    WrongHost,
    #[error("the Digest header does not match the body")]
    Digest,
    #[error("the signature does not verify")]
    Invalid,
    #[error("unusable key: {0}")]
    Key(String),
}

/// A local actor's private key, parsed once.
pub struct PrivateKey(RsaKeyPair);

impl PrivateKey {
    pub fn from_pem(pem: &str) -> Result<Self, SignatureError> {
        let der = pem_body(pem, "PRIVATE KEY")?;
        RsaKeyPair::from_pkcs8(&der)
            .map(PrivateKey)
            .map_err(|e| SignatureError::Key(e.to_string()))
    }

    /// RSASSA-PKCS1-v1_5 with SHA-256 over `data`.
    pub fn sign(&self, data: &[u8]) -> Vec<u8> {
        let mut sig = vec![0; self.0.public_modulus_len()];
        self.0
            .sign(
                &signature::RSA_PKCS1_SHA256,
                &aws_lc_rs::rand::SystemRandom::new(),
                data,
                &mut sig,
            )
            .expect("RSA signing with a valid key does not fail");
        sig
    }
}

/// A remote actor's public key (`publicKeyPem`, SPKI), parsed once.
#[derive(Clone)]
pub struct PublicKey(ParsedPublicKey);

impl PublicKey {
    pub fn from_pem(pem: &str) -> Result<Self, SignatureError> {
        use rsa::pkcs8::EncodePublicKey;
        let key = rsa::RsaPublicKey::from_public_key_pem(pem.trim())
            .map_err(|e| SignatureError::Key(e.to_string()))?;
        let bits = key.n().bits();
        if !(2048..=8192).contains(&bits) {
            return Err(SignatureError::Key(format!(
                "{bits}-bit RSA keys are not accepted"
            )));
        }
        let der = key
            .to_public_key_der()
            .map_err(|e| SignatureError::Key(e.to_string()))?;
        ParsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, der.as_bytes())
            .map(PublicKey)
            .map_err(|e| SignatureError::Key(e.to_string()))
    }

    pub fn verify(&self, data: &[u8], sig: &[u8]) -> bool {
        self.0.verify_sig(data, sig).is_ok()
    }
}

/// Parsed public keys by their PEM text, most recently used kept: parsing
/// costs about as much as verifying, and a few thousand actors sign most
/// requests. A rotated key is new text, so it is parsed afresh.
pub struct KeyCache(std::sync::Mutex<lru::LruCache<String, std::sync::Arc<PublicKey>>>);

impl KeyCache {
    pub fn new(capacity: usize) -> KeyCache {
        let cap = std::num::NonZeroUsize::new(capacity).unwrap_or(std::num::NonZeroUsize::MIN);
        KeyCache(std::sync::Mutex::new(lru::LruCache::new(cap)))
    }

    pub fn get(&self, pem: &str) -> Result<std::sync::Arc<PublicKey>, SignatureError> {
        let lock = || self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(k) = lock().get(pem) {
            return Ok(k.clone());
        }
        let key = std::sync::Arc::new(PublicKey::from_pem(pem)?);
        lock().put(pem.to_owned(), key.clone());
        Ok(key)
    }
}

fn pem_body(pem: &str, label: &str) -> Result<Vec<u8>, SignatureError> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let body = pem
        .trim()
        .strip_prefix(&begin)
        .and_then(|r| r.trim_end().strip_suffix(&end))
        .ok_or_else(|| SignatureError::Key(format!("expected a PEM {label}")))?;
    let compact: String = body.split_whitespace().collect();
    B64.decode(compact)
        .map_err(|e| SignatureError::Key(e.to_string()))
}

/// `SHA-256=<base64>` of a body, as the `Digest` header carries it.
pub fn digest(body: &[u8]) -> String {
    format!("SHA-256={}", B64.encode(Sha256::digest(body)))
}

/// Headers to add to an outgoing request: `Date`, `Digest` (with a body) and
/// `Signature`. `host` is the authority as sent (with a port if explicit).
pub fn sign_request(
    key: &PrivateKey,
    key_id: &str,
    method: &str,
    path_and_query: &str,
    host: &str,
    body: Option<&[u8]>,
    now: SystemTime,
) -> Vec<(&'static str, String)> {
    let date = httpdate::fmt_http_date(now);
    let mut out = vec![("Date", date.clone())];
    let mut names = vec!["(request-target)", "host", "date"];
    let mut lines = vec![
        format!(
            "(request-target): {} {path_and_query}",
            method.to_ascii_lowercase()
        ),
        format!("host: {host}"),
        format!("date: {date}"),
    ];
    if let Some(body) = body {
        let d = digest(body);
        names.push("digest");
        lines.push(format!("digest: {d}"));
        out.push(("Digest", d));
        names.push("content-type");
        lines.push("content-type: application/activity+json".into());
    }
    let sig = B64.encode(key.sign(lines.join("\n").as_bytes()));
    out.push((
        "Signature",
        format!(
            "keyId=\"{key_id}\",algorithm=\"rsa-sha256\",headers=\"{}\",signature=\"{sig}\"",
            names.join(" ")
        ),
    ));
    out
}

/// A parsed signature: draft-cavage's `Signature` header, or RFC 9421's
/// `Signature-Input` and `Signature` (then `headers` are its components).
#[derive(Debug, Clone)]
pub struct SignatureHeader {
    pub key_id: String,
    pub headers: Vec<String>,
    pub signature: Vec<u8>,
    pub rfc9421: Option<super::message_signatures::Params>,
}

/// The signature of a request, whichever scheme it uses (RFC 9421 when a
/// `Signature-Input` header is present).
pub fn parse_request(
    header: &(dyn Fn(&str) -> Option<String> + Sync),
) -> Result<SignatureHeader, SignatureError> {
    let signature = header("signature").ok_or(SignatureError::Missing)?;
    match header("signature-input") {
        Some(input) => super::message_signatures::parse(&input, &signature),
        None => parse_signature_header(&signature),
    }
}

pub fn parse_signature_header(value: &str) -> Result<SignatureHeader, SignatureError> {
    let mut fields = HashMap::new();
    let mut rest = value.trim();
    while !rest.is_empty() {
        let (name, after) = rest
            .split_once('=')
            .ok_or(SignatureError::Malformed("expected name=\"value\""))?;
        let after = after
            .strip_prefix('"')
            .ok_or(SignatureError::Malformed("values must be quoted"))?;
        let end = after
            .find('"')
            .ok_or(SignatureError::Malformed("unterminated value"))?;
        fields.insert(name.trim().to_ascii_lowercase(), &after[..end]);
        rest = after[end + 1..].trim_start();
        rest = rest.strip_prefix(',').unwrap_or(rest).trim_start();
        if fields.len() > 16 {
            return Err(SignatureError::Malformed("too many fields"));
        }
    }
    let key_id = fields
        .get("keyid")
        .ok_or(SignatureError::Malformed("no keyId"))?;
    if let Some(alg) = fields.get("algorithm")
        && !matches!(*alg, "rsa-sha256" | "hs2019")
    {
        return Err(SignatureError::Algorithm((*alg).to_owned()));
    }
    let signature = B64
        .decode(
            fields
                .get("signature")
                .ok_or(SignatureError::Malformed("no signature"))?,
        )
        .map_err(|_| SignatureError::Malformed("signature is not base64"))?;
    let headers = fields
        .get("headers")
        .unwrap_or(&"date")
        .split_ascii_whitespace()
        .map(str::to_ascii_lowercase)
        .collect();
    Ok(SignatureHeader {
        key_id: (*key_id).to_owned(),
        headers,
        signature,
        rfc9421: None,
    })
}

/// What the verifier needs of a request: its method, path and query as
/// received, a header lookup (lower-case names), and the authority the
/// request must have been made for (ours: `server.domain`). A signature
/// covers the `host` it was made for; without comparing it with our own, a
/// signed request captured by one server could be replayed to another.
pub struct SignedRequest<'a> {
    pub method: &'a str,
    pub path_and_query: &'a str,
    /// Ours (`http` only in the development mode): RFC 9421's `@target-uri`.
    pub scheme: &'a str,
    pub authority: &'a str,
    pub header: &'a (dyn Fn(&str) -> Option<String> + Sync),
    pub body: Option<&'a [u8]>,
}

/// Checks coverage, date and digest without the key (cheap checks first,
/// before anything is fetched for the keyId).
pub fn precheck(
    req: &SignedRequest<'_>,
    sig: &SignatureHeader,
    now: SystemTime,
) -> Result<(), SignatureError> {
    if let Some(params) = &sig.rfc9421 {
        return super::message_signatures::precheck(req, sig, params, now);
    }
    let covers = |h: &str| sig.headers.iter().any(|x| x == h);
    if !covers("(request-target)") {
        return Err(SignatureError::NotCovered("(request-target)"));
    }
    if !covers("host") {
        return Err(SignatureError::NotCovered("host"));
    }
    if !covers("date") && !covers("(created)") {
        return Err(SignatureError::NotCovered("date"));
    }
    let host = (req.header)("host").ok_or(SignatureError::WrongHost)?;
    if !same_authority(&host, req.authority) {
        return Err(SignatureError::WrongHost);
    }
    let date = (req.header)("date")
        .and_then(|d| httpdate::parse_http_date(&d).ok())
        .ok_or(SignatureError::Stale)?;
    let skew = match now.duration_since(date) {
        Ok(past) => past,
        Err(future) => future.duration(),
    };
    if skew > MAX_CLOCK_SKEW {
        return Err(SignatureError::Stale);
    }
    if let Some(body) = req.body {
        if !covers("digest") {
            return Err(SignatureError::NotCovered("digest"));
        }
        let sent = (req.header)("digest").ok_or(SignatureError::Digest)?;
        let ours = digest(body);
        // Several algorithms may be listed; ours must be among them.
        if !sent.split(',').any(|d| d.trim() == ours) {
            return Err(SignatureError::Digest);
        }
    }
    Ok(())
}

/// `host` names `ours` (case aside; a default port written out or not).
pub(super) fn same_authority(host: &str, ours: &str) -> bool {
    let strip = |a: &str| {
        let a = a.trim().to_ascii_lowercase();
        match a.strip_suffix(":443").or_else(|| a.strip_suffix(":80")) {
            Some(bare) => bare.to_owned(),
            None => a,
        }
    };
    !ours.is_empty() && strip(host) == strip(ours)
}

/// Verifies the signature with the signer's key (after [`precheck`]).
pub fn verify(
    req: &SignedRequest<'_>,
    sig: &SignatureHeader,
    key: &PublicKey,
) -> Result<(), SignatureError> {
    if let Some(params) = &sig.rfc9421 {
        let base = super::message_signatures::base(req, sig, params)?;
        return match key.verify(base.as_bytes(), &sig.signature) {
            true => Ok(()),
            false => Err(SignatureError::Invalid),
        };
    }
    let mut lines = Vec::with_capacity(sig.headers.len());
    for h in &sig.headers {
        let line = match h.as_str() {
            "(request-target)" => format!(
                "(request-target): {} {}",
                req.method.to_ascii_lowercase(),
                req.path_and_query
            ),
            name => {
                let v = (req.header)(name).ok_or(SignatureError::Malformed(
                    "a signed header is missing from the request",
                ))?;
                format!("{name}: {v}")
            }
        };
        lines.push(line);
    }
    if key.verify(lines.join("\n").as_bytes(), &sig.signature) {
        Ok(())
    } else {
        Err(SignatureError::Invalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> (PrivateKey, PublicKey) {
        use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
        let k = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap();
        let private = k.to_pkcs8_pem(LineEnding::LF).unwrap();
        let public = k.to_public_key().to_public_key_pem(LineEnding::LF).unwrap();
        (
            PrivateKey::from_pem(&private).unwrap(),
            PublicKey::from_pem(&public).unwrap(),
        )
    }

    #[test]
    fn the_key_cache_parses_each_key_once_and_a_rotated_key_afresh() {
        use rsa::pkcs8::{EncodePublicKey, LineEnding};
        let pem = |_: u8| {
            let k = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap();
            k.to_public_key().to_public_key_pem(LineEnding::LF).unwrap()
        };
        let (old, rotated) = (pem(0), pem(1));
        let cache = KeyCache::new(2);
        let first = cache.get(&old).unwrap();
        assert!(std::sync::Arc::ptr_eq(&first, &cache.get(&old).unwrap()));
        assert!(!std::sync::Arc::ptr_eq(
            &first,
            &cache.get(&rotated).unwrap()
        ));
        assert!(matches!(
            cache.get("not a key"),
            Err(SignatureError::Key(_))
        ));
        // Least recently used goes first when full.
        cache.get(&pem(2)).unwrap();
        assert!(!std::sync::Arc::ptr_eq(&first, &cache.get(&old).unwrap()));
    }

    fn check(
        headers: &[(&'static str, String)],
        extra: &[(&str, &str)],
        body: &[u8],
        key: &PublicKey,
        now: SystemTime,
    ) -> Result<(), SignatureError> {
        let lookup = |name: &str| {
            headers
                .iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
                .chain(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())))
                .find(|(k, _)| k == name)
                .map(|(_, v)| v)
        };
        let req = SignedRequest {
            method: "POST",
            path_and_query: "/inbox",
            scheme: "https",
            authority: "b.example",
            header: &lookup,
            body: Some(body),
        };
        let sig = parse_signature_header(&lookup("signature").ok_or(SignatureError::Missing)?)?;
        precheck(&req, &sig, now)?;
        verify(&req, &sig, key)
    }

    #[test]
    fn signs_and_verifies_and_refuses_tampering() {
        let (private, public) = keys();
        let now = SystemTime::now();
        let body = br#"{"type":"Create"}"#;
        let h = sign_request(
            &private,
            "https://a.example/users/x#main-key",
            "POST",
            "/inbox",
            "b.example",
            Some(body),
            now,
        );
        let host = [
            ("host", "b.example"),
            ("content-type", "application/activity+json"),
        ];
        assert_eq!(check(&h, &host, body, &public, now), Ok(()));
        // Altered body: the digest no longer matches.
        assert_eq!(
            check(&h, &host, br#"{"type":"Delete"}"#, &public, now),
            Err(SignatureError::Digest)
        );
        // Another host: not ours, so refused before the key is even looked at.
        let other = [
            ("host", "c.example"),
            ("content-type", "application/activity+json"),
        ];
        assert_eq!(
            check(&h, &other, body, &public, now),
            Err(SignatureError::WrongHost)
        );
        // Our host written with its default port is still ours.
        let with_port = [
            ("host", "B.example:443"),
            ("content-type", "application/activity+json"),
        ];
        assert_eq!(
            check(&h, &with_port, body, &public, now),
            Err(SignatureError::Invalid),
            "host passes; the signature covered the bare host"
        );
        // Stale and future dates.
        let later = now + MAX_CLOCK_SKEW + Duration::from_secs(5);
        assert_eq!(
            check(&h, &host, body, &public, later),
            Err(SignatureError::Stale)
        );
        let earlier = now - MAX_CLOCK_SKEW - Duration::from_secs(5);
        assert_eq!(
            check(&h, &host, body, &public, earlier),
            Err(SignatureError::Stale)
        );
        // Another key.
        let (_, stranger) = keys();
        assert_eq!(
            check(&h, &host, body, &stranger, now),
            Err(SignatureError::Invalid)
        );
    }

    #[test]
    fn header_parsing_refuses_what_it_cannot_check() {
        assert!(parse_signature_header("keyId=\"k\",signature=\"AAAA\"").is_ok());
        assert_eq!(
            parse_signature_header("keyId=\"k\",algorithm=\"hmac-sha256\",signature=\"AAAA\"")
                .unwrap_err(),
            SignatureError::Algorithm("hmac-sha256".into())
        );
        assert!(parse_signature_header("keyId=k").is_err());
        assert!(parse_signature_header("signature=\"AAAA\"").is_err());
        assert!(parse_signature_header("keyId=\"k\",signature=\"not base64!\"").is_err());
        let s = parse_signature_header(
            "keyId=\"https://a/u#k\", headers=\"(request-target) Host date\", signature=\"AAAA\"",
        )
        .unwrap();
        assert_eq!(s.headers, ["(request-target)", "host", "date"]);
    }

    #[test]
    fn a_signature_must_cover_target_host_date_and_digest() {
        let (private, public) = keys();
        let now = SystemTime::now();
        let body = b"{}";
        let mut h = sign_request(
            &private,
            "k",
            "POST",
            "/inbox",
            "b.example",
            Some(body),
            now,
        );
        let sig = h.iter_mut().find(|(k, _)| *k == "Signature").unwrap();
        sig.1 = sig.1.replace(
            "headers=\"(request-target) host date digest content-type\"",
            "headers=\"(request-target) host date\"",
        );
        assert_eq!(
            check(&h, &[("host", "b.example")], body, &public, now),
            Err(SignatureError::NotCovered("digest"))
        );
    }

    #[test]
    fn small_keys_are_refused() {
        use rsa::pkcs8::EncodePublicKey;
        let small = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 1024).unwrap();
        let pem = small
            .to_public_key()
            .to_public_key_pem(rsa::pkcs8::LineEnding::LF)
            .unwrap();
        assert!(matches!(
            PublicKey::from_pem(&pem),
            Err(SignatureError::Key(_))
        ));
    }
}
