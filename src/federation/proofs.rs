//! Object integrity proofs, after FEP-8b32: the author's server signs an
//! object with the author's key, so the object can travel through a third
//! party and still be checked. A group passing a members-only post on to its
//! members' servers vouches for nothing about its content (a group vouches
//! only for objects on its own origin): the author's proof does, checked
//! against the author's key as the author's own server publishes it.
//!
//! The cryptosuite is ours (RSA, as our keys are, over a canonical JSON form
//! with sorted keys, as JCS); only tsunagu servers read it, and only for the
//! members-only pass-on, which is ours too. Other servers ignore `proof`.
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::Value;

use super::signatures::{PrivateKey, PublicKey};
use super::vocab::{DataIntegrityProof, RemoteProof};

pub const CRYPTOSUITE: &str = "tsunagu-rsa-sha256-jcs-2026";

/// Compact JSON with object keys sorted (as RFC 8785 orders them, for the
/// keys we use), the same bytes for the same value on any server. Recursive,
/// but over values no deeper than serde_json parses (128 levels).
pub fn canonical(v: &Value) -> String {
    let mut out = String::new();
    write_canonical(v, &mut out);
    out
}

fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_canonical(&map[k], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// What is signed: the proof's configuration, then the object without it.
fn signed_bytes(object: &Value, config: &Value) -> Vec<u8> {
    let mut doc = object.clone();
    if let Some(o) = doc.as_object_mut() {
        o.remove("proof");
    }
    format!("{}\n{}", canonical(config), canonical(&doc)).into_bytes()
}

/// Adds a `proof` to `object`, signed with `key` (whose id is `key_id`).
pub fn attach(object: &mut Value, key: &PrivateKey, key_id: &str, created: &str) {
    let mut proof = DataIntegrityProof::new(CRYPTOSUITE, key_id, created);
    let signature = B64.encode(key.sign(&signed_bytes(object, &proof.to_json())));
    proof.proof_value = Some(signature);
    object["proof"] = proof.to_json();
}

/// Whether `object` carries a proof by `author_uri`, valid under `key` (the
/// key `author_uri`'s own server publishes).
pub fn verify(object: &Value, author_uri: &str, key: &PublicKey) -> bool {
    let Some(raw) = object.get("proof") else {
        return false;
    };
    let proof = RemoteProof::read(raw);
    let method = proof.verification_method.as_deref().unwrap_or_default();
    if proof.kind.as_deref() != Some("DataIntegrityProof")
        || proof.cryptosuite.as_deref() != Some(CRYPTOSUITE)
        || method.split('#').next() != Some(author_uri)
    {
        return false;
    }
    let Some(signature) = proof
        .proof_value
        .as_deref()
        .and_then(|s| B64.decode(s).ok())
    else {
        return false;
    };
    // What was signed is the configuration as sent, whatever else it holds.
    let mut config = raw.clone();
    if let Some(c) = config.as_object_mut() {
        c.remove("proofValue");
    }
    key.verify(&signed_bytes(object, &config), &signature)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn keys() -> (PrivateKey, PublicKey) {
        use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
        let k = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap();
        (
            PrivateKey::from_pem(&k.to_pkcs8_pem(LineEnding::LF).unwrap()).unwrap(),
            PublicKey::from_pem(&k.to_public_key().to_public_key_pem(LineEnding::LF).unwrap())
                .unwrap(),
        )
    }

    #[test]
    fn canonical_form_sorts_keys_at_every_level() {
        let a: Value =
            serde_json::from_str(r#"{"b": [{"z": 1, "a": "x\"y"}], "a": 1.5, "c": null}"#).unwrap();
        assert_eq!(
            canonical(&a),
            r#"{"a":1.5,"b":[{"a":"x\"y","z":1}],"c":null}"#
        );
    }

    #[test]
    fn a_proof_survives_the_trip_and_nothing_else_does() {
        let (private, public) = keys();
        let author = "https://beta.example/users/bob";
        let mut note = json!({
            "id": format!("{author}/statuses/1"), "type": "Note", "attributedTo": author,
            "content": "<p>members: the budget</p>", "to": ["https://alpha.example/users/acme/members"],
        });
        attach(
            &mut note,
            &private,
            &format!("{author}#main-key"),
            "2026-12-02T00:00:00Z",
        );
        // Through a group: serialised, parsed again, keys in another order.
        let relayed: Value = serde_json::from_str(&note.to_string()).unwrap();
        assert!(verify(&relayed, author, &public));
        // Any change to the content breaks it.
        let mut changed = relayed.clone();
        changed["content"] = json!("<p>members: send money here</p>");
        assert!(!verify(&changed, author, &public));
        // Claimed for another author, or checked with another key: refused.
        assert!(!verify(
            &relayed,
            "https://beta.example/users/dave",
            &public
        ));
        let (_, stranger) = keys();
        assert!(!verify(&relayed, author, &stranger));
        // No proof at all.
        let mut bare = relayed.clone();
        bare.as_object_mut().unwrap().remove("proof");
        assert!(!verify(&bare, author, &public));
    }
}
