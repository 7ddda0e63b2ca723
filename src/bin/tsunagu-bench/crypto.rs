//! `crypto`: RSA-2048 PKCS#1 v1.5 SHA-256 signing and verification and the
//! SHA-256 body digest, per operation on one core, with what the server uses
//! (`tsunagu::federation::signatures`: AWS-LC, sha2) beside ring, the
//! pure-Rust `rsa` crate and OpenSSL (`openssl speed`, the reference constant-time
//! implementation), all in the same run.
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::traits::PublicKeyParts;
use serde_json::{Value, json};
use sha2::Digest;
use tsunagu::federation::signatures::{self, PrivateKey, PublicKey};

/// What an HTTP signature signs: a typical signing string.
const SIGNING_STRING: &[u8] = b"(request-target): post /inbox\nhost: alpha.example\ndate: Sun, 22 Nov 2026 07:40:00 GMT\ndigest: SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=\ncontent-type: application/activity+json";
/// DigestInfo prefix of SHA-256 (RFC 8017, 9.2), for the `rsa` crate's raw signing.
const SHA256_PREFIX: [u8; 19] = [
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
];
/// Body size for the digest (OpenSSL reports 1024-byte blocks).
const BODY: usize = 1024;

pub async fn run(seconds: u64) -> Result<Value> {
    tokio::task::spawn_blocking(move || measure(Duration::from_secs(seconds))).await?
}

/// Operations per second of `op`, after a short warm-up.
fn rate(span: Duration, mut op: impl FnMut()) -> f64 {
    for _ in 0..20 {
        op();
    }
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < span {
        for _ in 0..10 {
            op();
        }
        n += 10;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn measure(span: Duration) -> Result<Value> {
    let key = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048)?;
    let private_pem = key.to_pkcs8_pem(LineEnding::LF)?.to_string();
    let public_pem = key.to_public_key().to_public_key_pem(LineEnding::LF)?;
    let ours = PrivateKey::from_pem(&private_pem).map_err(|e| anyhow::anyhow!("{e}"))?;
    let theirs = PublicKey::from_pem(&public_pem).map_err(|e| anyhow::anyhow!("{e}"))?;

    // Both implementations must make the same (deterministic) signature.
    let sig = ours.sign(SIGNING_STRING);
    let hashed: Vec<u8> = SHA256_PREFIX
        .iter()
        .copied()
        .chain(sha2::Sha256::digest(SIGNING_STRING))
        .collect();
    let pure_sig = key.sign_with_rng(
        &mut rand::thread_rng(),
        rsa::Pkcs1v15Sign::new_unprefixed(),
        &hashed,
    )?;
    if pure_sig != sig || !theirs.verify(SIGNING_STRING, &sig) {
        bail!("the backends disagree on the signature");
    }
    let public = key.to_public_key();

    let sign = rate(span, || {
        std::hint::black_box(ours.sign(SIGNING_STRING));
    });
    let verify = rate(span, || {
        assert!(theirs.verify(SIGNING_STRING, std::hint::black_box(&sig)));
    });
    let body = vec![b'x'; BODY];
    // The hash alone (the Digest header adds base64), as OpenSSL measures it.
    let digest = rate(span, || {
        std::hint::black_box(sha2::Sha256::digest(std::hint::black_box(&body)));
    });
    let header = signatures::digest(&body);
    if !header.starts_with("SHA-256=") {
        bail!("unexpected Digest header {header}");
    }
    let ring_digest = rate(span, || {
        std::hint::black_box(ring::digest::digest(
            &ring::digest::SHA256,
            std::hint::black_box(&body),
        ));
    });
    let pure_sign = rate(span.min(Duration::from_secs(2)), || {
        std::hint::black_box(
            key.sign_with_rng(
                &mut rand::thread_rng(),
                rsa::Pkcs1v15Sign::new_unprefixed(),
                &hashed,
            )
            .unwrap(),
        );
    });
    let pure_verify = rate(span.min(Duration::from_secs(2)), || {
        let h = sha2::Sha256::digest(SIGNING_STRING);
        let hashed: Vec<u8> = SHA256_PREFIX.iter().copied().chain(h).collect();
        public
            .verify(rsa::Pkcs1v15Sign::new_unprefixed(), &hashed, &sig)
            .unwrap();
    });
    // ring, which the server used before (and rustls still uses for TLS).
    let (ring_sign, ring_verify) = {
        use ring::signature as rs;
        let der = key.to_pkcs8_der()?;
        let pair =
            rs::RsaKeyPair::from_pkcs8(der.as_bytes()).map_err(|e| anyhow::anyhow!("ring: {e}"))?;
        let rng = ring::rand::SystemRandom::new();
        let mut out = vec![0; pair.public().modulus_len()];
        pair.sign(&rs::RSA_PKCS1_SHA256, &rng, SIGNING_STRING, &mut out)
            .map_err(|e| anyhow::anyhow!("ring: {e}"))?;
        if out != sig {
            bail!("ring disagrees on the signature");
        }
        let n = public.n().to_bytes_be();
        let e = public.e().to_bytes_be();
        let s = rate(span, || {
            pair.sign(&rs::RSA_PKCS1_SHA256, &rng, SIGNING_STRING, &mut out)
                .unwrap();
        });
        let v = rate(span, || {
            rs::RsaPublicKeyComponents { n: &n, e: &e }
                .verify(&rs::RSA_PKCS1_2048_8192_SHA256, SIGNING_STRING, &sig)
                .unwrap();
        });
        (s, v)
    };
    let openssl = openssl_speed(span.as_secs().max(1));
    let (ossl_sign, ossl_verify, ossl_digest) = match &openssl {
        Ok(v) => (Some(v.0), Some(v.1), Some(v.2)),
        Err(e) => {
            eprintln!("tsunagu-bench: OpenSSL not measured: {e:#}");
            (None, None, None)
        }
    };
    // Constant-time backends only: the pure-Rust `rsa` crate is not (RUSTSEC-2023-0071).
    let fastest = |own: f64, other: Option<f64>| own.max(other.unwrap_or(0.0));
    let fastest_sign = fastest(sign.max(ring_sign), ossl_sign);
    let fastest_verify = fastest(verify.max(ring_verify), ossl_verify);
    let fastest_digest = fastest(digest.max(ring_digest), ossl_digest);

    let cell = |v: Option<f64>| v.map_or("—".to_owned(), |v| format!("{v:.0}"));
    println!("crypto: operations per second on one core (RSA-2048, PKCS#1 v1.5, SHA-256)");
    println!(
        "{:<16} {:>10} {:>10} {:>10} {:>10} {:>15}",
        "operation", "server", "ring", "rsa crate", "OpenSSL", "server/fastest"
    );
    let rows = [
        (
            "sign",
            sign,
            ring_sign,
            Some(pure_sign),
            ossl_sign,
            fastest_sign,
        ),
        (
            "verify",
            verify,
            ring_verify,
            Some(pure_verify),
            ossl_verify,
            fastest_verify,
        ),
        (
            "sha256 (1 KiB)",
            digest,
            ring_digest,
            None,
            ossl_digest,
            fastest_digest,
        ),
    ];
    for (name, own, ring, pure, ossl, best) in rows {
        println!(
            "{name:<16} {own:>10.0} {ring:>10.0} {:>10} {:>10} {:>14.0}%",
            cell(pure),
            cell(ossl),
            100.0 * own / best
        );
    }
    println!("(server: AWS-LC for RSA, the sha2 crate for the digest)");
    Ok(json!({
        "scenario": "crypto",
        "sign_per_s": sign.round(),
        "verify_per_s": verify.round(),
        "digest_per_s": digest.round(),
        "fastest_sign_per_s": fastest_sign.round(),
        "fastest_verify_per_s": fastest_verify.round(),
        "fastest_digest_per_s": fastest_digest.round(),
        "sign_ratio": (sign / fastest_sign * 1000.0).round() / 1000.0,
        "verify_ratio": (verify / fastest_verify * 1000.0).round() / 1000.0,
        "digest_ratio": (digest / fastest_digest * 1000.0).round() / 1000.0,
        "ring_sign_per_s": ring_sign.round(),
        "ring_verify_per_s": ring_verify.round(),
        "ring_digest_per_s": ring_digest.round(),
        "rsa_crate_sign_per_s": pure_sign.round(),
        "rsa_crate_verify_per_s": pure_verify.round(),
        "openssl_sign_per_s": ossl_sign.map(f64::round),
        "openssl_verify_per_s": ossl_verify.map(f64::round),
        "openssl_digest_per_s": ossl_digest.map(f64::round),
    }))
}

/// `openssl speed`: RSA-2048 sign/s and verify/s, SHA-256 of 1 KiB blocks per second.
fn openssl_speed(seconds: u64) -> Result<(f64, f64, f64)> {
    let run = |what: &str| -> Result<String> {
        let out = std::process::Command::new("openssl")
            .args(["speed", "-seconds", &seconds.to_string(), what])
            .output()
            .context("running `openssl speed` (Debian: apt-get install openssl)")?;
        if !out.status.success() {
            bail!("openssl speed {what} failed");
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let rsa = run("rsa2048")?;
    let line = rsa
        .lines()
        .find(|l| {
            l.trim_start().starts_with("rsa 2048 bits")
                || l.trim_start().starts_with("rsa  2048 bits")
        })
        .context("no `rsa 2048 bits` line in openssl's output")?;
    // After "rsa 2048 bits" (whose 2048 is no figure).
    let nums: Vec<f64> = line
        .split_whitespace()
        .skip(3)
        .filter_map(|w| w.parse().ok())
        .collect();
    // Times carry an `s` suffix and do not parse: sign/s, verify/s (then
    // encrypt/s, decrypt/s on OpenSSL 3.2+).
    let (sign, verify) = match nums.as_slice() {
        [s, v, ..] => (*s, *v),
        _ => bail!("unexpected openssl output: {line}"),
    };
    let sha = run("sha256")?;
    let line = sha
        .lines()
        .rev()
        .find(|l| l.starts_with("sha256"))
        .context("no sha256 line in openssl's output")?;
    // Columns: 16, 64, 256, 1024, 8192, 16384 bytes, in thousands of bytes per second.
    let cols: Vec<f64> = line
        .split_whitespace()
        .filter_map(|w| w.trim_end_matches('k').parse().ok())
        .collect();
    let kbytes = *cols.get(3).context("no 1024-byte column")?;
    Ok((sign, verify, kbytes * 1000.0 / BODY as f64))
}
