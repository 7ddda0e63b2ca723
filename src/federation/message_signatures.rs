//! RFC 9421 HTTP Message Signatures, beside draft-cavage (`signatures.rs`):
//! Mastodon from 4.5 and Fedify sign with it first. We verify what they send
//! (`rsa-v1_5-sha256`, the RSA keys the fediverse publishes) and sign with it
//! when a server refuses draft-cavage ("double-knocking", `http.rs`).
//!
//! Only the parts of RFC 8941 structured fields these headers use are read:
//! one signature (the first label), components as plain strings without
//! parameters, parameters as strings or integers. Anything else is refused
//! with a reason, never read as "unsigned".
use std::time::SystemTime;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use sha2::{Digest as _, Sha256, Sha512};

use super::signatures::{
    MAX_CLOCK_SKEW, PrivateKey, SignatureError, SignatureHeader, SignedRequest,
};

pub const ALGORITHM: &str = "rsa-v1_5-sha256";
const MAX_COMPONENTS: usize = 24;

/// What RFC 9421 adds to a parsed signature.
#[derive(Debug, Clone)]
pub struct Params {
    /// `@signature-params`: the inner list and its parameters, as sent.
    pub serialized: String,
    pub created: Option<u64>,
    pub expires: Option<u64>,
}

fn malformed(why: &'static str) -> SignatureError {
    SignatureError::Malformed(why)
}

/// Reads a quoted string at the start of `s`: (value, rest).
fn quoted(s: &str) -> Result<(&str, &str), SignatureError> {
    let s = s
        .strip_prefix('"')
        .ok_or(malformed("expected a quoted string"))?;
    let end = s.find('"').ok_or(malformed("unterminated string"))?;
    let value = &s[..end];
    if value.contains('\\') {
        return Err(malformed("escapes in strings are not supported"));
    }
    Ok((value, &s[end + 1..]))
}

/// The first member of a dictionary header: (label, value as sent).
fn first_member(header: &str) -> Result<(&str, &str), SignatureError> {
    let header = header.trim();
    let (label, rest) = header
        .split_once('=')
        .ok_or(malformed("expected label=value"))?;
    // The value ends at the first comma outside a string.
    let mut in_string = false;
    let end = rest
        .char_indices()
        .find(|&(_, c)| {
            if c == '"' {
                in_string = !in_string;
            }
            c == ',' && !in_string
        })
        .map_or(rest.len(), |(i, _)| i);
    Ok((label.trim(), rest[..end].trim()))
}

/// The value of `label` in the `Signature` dictionary (`label=:base64:`).
fn signature_of(header: &str, label: &str) -> Result<Vec<u8>, SignatureError> {
    for member in header.split(',') {
        let Some((l, v)) = member.trim().split_once('=') else {
            continue;
        };
        if l.trim() == label {
            let b64 = v
                .trim()
                .strip_prefix(':')
                .and_then(|v| v.strip_suffix(':'))
                .ok_or(malformed("the signature is not a byte sequence"))?;
            return B64
                .decode(b64)
                .map_err(|_| malformed("the signature is not base64"));
        }
    }
    Err(malformed("no signature with the label of Signature-Input"))
}

/// Parses `Signature-Input` and `Signature` (the first signature).
pub fn parse(input: &str, signature: &str) -> Result<SignatureHeader, SignatureError> {
    if input.len() > 4096 {
        return Err(malformed("Signature-Input is too long"));
    }
    let (label, value) = first_member(input)?;
    let mut rest = value
        .strip_prefix('(')
        .ok_or(malformed("expected a list of components"))?;
    let mut components = Vec::new();
    loop {
        rest = rest.trim_start_matches(' ');
        if rest.is_empty() {
            return Err(malformed("unterminated list of components"));
        }
        if let Some(after) = rest.strip_prefix(')') {
            rest = after;
            break;
        }
        let (component, after) = quoted(rest)?;
        if after.starts_with(';') {
            return Err(malformed("component parameters are not supported"));
        }
        components.push(component.to_owned());
        if components.len() > MAX_COMPONENTS {
            return Err(malformed("too many components"));
        }
        rest = after;
    }
    let (mut key_id, mut created, mut expires) = (None, None, None);
    while !rest.is_empty() {
        let after = rest
            .strip_prefix(';')
            .ok_or(malformed("expected ;name=value"))?;
        let (name, after) = after
            .split_once('=')
            .ok_or(malformed("expected ;name=value"))?;
        let (text, after) = if after.starts_with('"') {
            quoted(after)?
        } else {
            let end = after.find(';').unwrap_or(after.len());
            (&after[..end], &after[end..])
        };
        match name {
            "keyid" => key_id = Some(text.to_owned()),
            "alg" if text != ALGORITHM => return Err(SignatureError::Algorithm(text.to_owned())),
            "created" => created = Some(text.parse().map_err(|_| malformed("bad created"))?),
            "expires" => expires = Some(text.parse().map_err(|_| malformed("bad expires"))?),
            _ => {}
        }
        rest = after;
    }
    Ok(SignatureHeader {
        key_id: key_id.ok_or(malformed("no keyid"))?,
        headers: components,
        signature: signature_of(signature, label)?,
        rfc9421: Some(Params {
            serialized: value.to_owned(),
            created,
            expires,
        }),
    })
}

/// `sha-256=:…:` of a body, as `Content-Digest` (RFC 9530) carries it.
pub fn content_digest(body: &[u8]) -> String {
    format!("sha-256=:{}:", B64.encode(Sha256::digest(body)))
}

/// Whether a `Content-Digest` header names the body (SHA-256 or SHA-512).
fn digest_matches(header: &str, body: &[u8]) -> bool {
    header.split(',').any(|member| {
        let Some((alg, value)) = member.trim().split_once('=') else {
            return false;
        };
        let Some(sent) = value
            .strip_prefix(':')
            .and_then(|v| v.strip_suffix(':'))
            .and_then(|v| B64.decode(v).ok())
        else {
            return false;
        };
        match alg.trim() {
            "sha-256" => sent == Sha256::digest(body).as_slice(),
            "sha-512" => sent == Sha512::digest(body).as_slice(),
            _ => false,
        }
    })
}

/// Coverage, time and digest, before anything is fetched for the key.
pub fn precheck(
    req: &SignedRequest<'_>,
    sig: &SignatureHeader,
    params: &Params,
    now: SystemTime,
) -> Result<(), SignatureError> {
    let covers = |c: &str| sig.headers.iter().any(|x| x == c);
    if !covers("@method") {
        return Err(SignatureError::NotCovered("@method"));
    }
    if !(covers("@target-uri") || covers("@path") || covers("@request-target")) {
        return Err(SignatureError::NotCovered("@target-uri"));
    }
    if !(covers("@target-uri") || covers("@authority") || covers("host")) {
        return Err(SignatureError::NotCovered("@authority"));
    }
    let host = (req.header)("host").ok_or(SignatureError::WrongHost)?;
    if !super::signatures::same_authority(&host, req.authority) {
        return Err(SignatureError::WrongHost);
    }
    let now = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let created = params.created.ok_or(SignatureError::Stale)?;
    if created.abs_diff(now) > MAX_CLOCK_SKEW.as_secs() || params.expires.is_some_and(|e| e < now) {
        return Err(SignatureError::Stale);
    }
    if let Some(body) = req.body {
        if !covers("content-digest") {
            return Err(SignatureError::NotCovered("content-digest"));
        }
        let sent = (req.header)("content-digest").ok_or(SignatureError::Digest)?;
        if !digest_matches(&sent, body) {
            return Err(SignatureError::Digest);
        }
    }
    Ok(())
}

/// The signature base (RFC 9421 §2.5) of a received request.
pub fn base(
    req: &SignedRequest<'_>,
    sig: &SignatureHeader,
    params: &Params,
) -> Result<String, SignatureError> {
    let host = || {
        (req.header)("host")
            .map(|h| h.trim().to_ascii_lowercase())
            .ok_or(SignatureError::WrongHost)
    };
    let (path, query) = match req.path_and_query.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (req.path_and_query, None),
    };
    let mut lines = Vec::with_capacity(sig.headers.len() + 1);
    for c in &sig.headers {
        let value = match c.as_str() {
            "@method" => req.method.to_ascii_uppercase(),
            "@target-uri" => format!("{}://{}{}", req.scheme, host()?, req.path_and_query),
            "@authority" => host()?,
            "@scheme" => req.scheme.to_owned(),
            "@path" => path.to_owned(),
            "@query" => format!("?{}", query.unwrap_or_default()),
            "@request-target" => req.path_and_query.to_owned(),
            c if c.starts_with('@') => return Err(malformed("an unsupported derived component")),
            name => (req.header)(name)
                .map(|v| v.trim().to_owned())
                .ok_or(malformed("a signed header is missing from the request"))?,
        };
        lines.push(format!("\"{c}\": {value}"));
    }
    lines.push(format!("\"@signature-params\": {}", params.serialized));
    Ok(lines.join("\n"))
}

/// Headers that sign a request with RFC 9421 (`@method`, `@target-uri`,
/// `@authority`, and `content-digest` with a body): `Content-Digest`,
/// `Signature-Input`, `Signature`.
pub fn sign(
    key: &PrivateKey,
    key_id: &str,
    method: &str,
    target_uri: &str,
    authority: &str,
    body: Option<&[u8]>,
    now: SystemTime,
) -> Vec<(&'static str, String)> {
    let created = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let method = method.to_ascii_uppercase();
    let mut out = Vec::new();
    let mut components = vec![
        ("@method", method),
        ("@target-uri", target_uri.to_owned()),
        ("@authority", authority.to_ascii_lowercase()),
    ];
    if let Some(body) = body {
        let d = content_digest(body);
        components.push(("content-digest", d.clone()));
        out.push(("Content-Digest", d));
    }
    let list: Vec<String> = components.iter().map(|(c, _)| format!("\"{c}\"")).collect();
    let params = format!(
        "({});created={created};keyid=\"{key_id}\";alg=\"{ALGORITHM}\"",
        list.join(" ")
    );
    let mut lines: Vec<String> = components
        .iter()
        .map(|(c, v)| format!("\"{c}\": {v}"))
        .collect();
    lines.push(format!("\"@signature-params\": {params}"));
    let signature = B64.encode(key.sign(lines.join("\n").as_bytes()));
    out.push(("Signature-Input", format!("sig1={params}")));
    out.push(("Signature", format!("sig1=:{signature}:")));
    out
}

#[cfg(test)]
mod tests {
    use super::super::signatures::{self, PublicKey};
    use super::*;

    fn keys() -> (PrivateKey, PublicKey) {
        use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
        let k = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap();
        (
            PrivateKey::from_pem(&k.to_pkcs8_pem(LineEnding::LF).unwrap()).unwrap(),
            PublicKey::from_pem(&k.to_public_key().to_public_key_pem(LineEnding::LF).unwrap())
                .unwrap(),
        )
    }

    /// Verifies `headers` (plus `extra`) as a POST of `body` to b.example/inbox.
    fn check(
        headers: &[(&'static str, String)],
        extra: &[(&str, &str)],
        body: &[u8],
        key: &PublicKey,
        now: SystemTime,
    ) -> Result<(), SignatureError> {
        let lookup = |name: &str| {
            extra
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .chain(
                    headers
                        .iter()
                        .map(|(k, v)| (k.to_ascii_lowercase(), v.clone())),
                )
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
        let sig = signatures::parse_request(&lookup)?;
        signatures::precheck(&req, &sig, now)?;
        signatures::verify(&req, &sig, key)
    }

    #[test]
    fn signs_and_verifies_and_refuses_what_was_changed() {
        let (private, public) = keys();
        let now = SystemTime::now();
        let body = br#"{"type":"Follow"}"#;
        let signed = sign(
            &private,
            "https://a.example/users/x#main-key",
            "POST",
            "https://b.example/inbox",
            "b.example",
            Some(body),
            now,
        );
        let host = [("host", "b.example")];
        assert_eq!(check(&signed, &host, body, &public, now), Ok(()));
        // Another body, another server, another time, another key.
        assert_eq!(
            check(&signed, &host, b"{}", &public, now),
            Err(SignatureError::Digest)
        );
        assert_eq!(
            check(&signed, &[("host", "c.example")], body, &public, now),
            Err(SignatureError::WrongHost)
        );
        let later = now + MAX_CLOCK_SKEW + std::time::Duration::from_secs(60);
        assert_eq!(
            check(&signed, &host, body, &public, later),
            Err(SignatureError::Stale)
        );
        let (_, other) = keys();
        assert_eq!(
            check(&signed, &host, body, &other, now),
            Err(SignatureError::Invalid)
        );
        // A digest that matches but is not covered.
        let input = signed
            .iter()
            .find(|(k, _)| *k == "Signature-Input")
            .unwrap()
            .1
            .replace(" \"content-digest\"", "");
        assert_eq!(
            check(
                &signed,
                &[("host", "b.example"), ("signature-input", &input)],
                body,
                &public,
                now
            ),
            Err(SignatureError::NotCovered("content-digest"))
        );
    }

    #[test]
    fn parsing_refuses_what_it_cannot_check() {
        let sig = "sig1=:AAAA:";
        for (input, want) in [
            (
                r#"sig1=("@method""#,
                SignatureError::Malformed("unterminated list of components"),
            ),
            (
                r#"sig1="@method""#,
                SignatureError::Malformed("expected a list of components"),
            ),
            (
                r#"sig1=("@method";req);keyid="k""#,
                SignatureError::Malformed("component parameters are not supported"),
            ),
            (
                r#"sig1=("@method");created=1"#,
                SignatureError::Malformed("no keyid"),
            ),
            (
                r#"sig1=("@method");keyid="k";alg="hmac-sha256""#,
                SignatureError::Algorithm("hmac-sha256".into()),
            ),
            (
                r#"other=("@method");keyid="k""#,
                SignatureError::Malformed("no signature with the label of Signature-Input"),
            ),
        ] {
            assert_eq!(parse(input, sig).unwrap_err(), want, "{input}");
        }
        let ok = parse(
            r#"sig1=("@method" "@target-uri");created=1700000000;keyid="https://a.example/k#1";alg="rsa-v1_5-sha256", sig2=("x");keyid="y""#,
            "sig2=:AAAA:, sig1=:AQID:",
        )
        .unwrap();
        assert_eq!(ok.key_id, "https://a.example/k#1");
        assert_eq!(ok.headers, ["@method", "@target-uri"]);
        assert_eq!(ok.signature, [1, 2, 3]);
        let params = ok.rfc9421.unwrap();
        assert_eq!(params.created, Some(1_700_000_000));
        assert_eq!(
            params.serialized,
            r#"("@method" "@target-uri");created=1700000000;keyid="https://a.example/k#1";alg="rsa-v1_5-sha256""#
        );
    }
}
