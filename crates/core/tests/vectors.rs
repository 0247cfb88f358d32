//! The protocol core against the test vectors in `tests/vectors/`, which an independent Python
//! implementation (`tests/vectors/generate.py`) computed from RFC 8785, RFC 8032 and the
//! protocol's rules. Every canonical form, digest, signing input and signature must be
//! reproduced byte for byte (Ed25519 signatures are deterministic).

use countersign_core::decision::DECISION_DOMAIN;
use countersign_core::encoding::{b64_decode, b64_encode, sha256_hex};
use countersign_core::jcs::canonicalize;
use countersign_core::keys::{
    decode_public_key, encode_public_key, key_id_for, SigningKey, VerifyingKey,
};
use countersign_core::session::{sign_nonce, verify_nonce, SESSION_DOMAIN};
use countersign_core::{Decision, SignatureError, Statement};
use serde::Deserialize;
use serde_json::Value;
use std::path::PathBuf;

fn load<T: for<'de> Deserialize<'de>>(name: &str) -> Vec<T> {
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "..",
        "..",
        "tests",
        "vectors",
        name,
    ]
    .iter()
    .collect();
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let cases: Vec<T> = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is malformed: {e}", path.display()));
    assert!(!cases.is_empty(), "{} has no vectors", path.display());
    cases
}

fn seed_key(seed_hex: &str) -> SigningKey {
    let seed: [u8; 32] = hex::decode(seed_hex)
        .expect("seed is hex")
        .try_into()
        .expect("seed is 32 bytes");
    SigningKey::from_bytes(&seed)
}

/// The same signature with one bit of byte `i` flipped, in wire form.
fn flip_signature(signature: &str, i: usize) -> String {
    let mut bytes = b64_decode(signature).unwrap();
    bytes[i] ^= 0x01;
    b64_encode(bytes)
}

#[derive(Deserialize)]
struct JcsCase {
    name: String,
    input: String,
    canonical: Option<String>,
}

#[test]
fn jcs_reproduces_every_canonical_form() {
    for case in load::<JcsCase>("jcs.json") {
        let parsed = serde_json::from_str::<Value>(&case.input);
        match (&case.canonical, parsed) {
            (Some(want), Ok(value)) => {
                let got = canonicalize(&value);
                assert_eq!(&got, want, "{}", case.name);
                // The canonical form is a fixed point.
                let again: Value = serde_json::from_str(&got).unwrap();
                assert_eq!(
                    &canonicalize(&again),
                    want,
                    "{} (recanonicalized)",
                    case.name
                );
            }
            (Some(_), Err(e)) => panic!("{}: input refused: {e}", case.name),
            (None, Ok(value)) => panic!(
                "{}: has no canonical form, but was canonicalized as {}",
                case.name,
                canonicalize(&value)
            ),
            (None, Err(_)) => {}
        }
    }
}

#[derive(Deserialize)]
struct StatementCase {
    name: String,
    statement: Value,
    body: String,
    canonical: String,
    request_digest: String,
}

#[test]
fn statements_reproduce_canonical_form_and_request_digest() {
    for case in load::<StatementCase>("statements.json") {
        let name = &case.name;
        let statement: Statement = serde_json::from_value(case.statement.clone())
            .unwrap_or_else(|e| panic!("{name}: not a Statement: {e}"));
        // Decoding and encoding again loses and adds nothing.
        assert_eq!(
            serde_json::to_value(&statement).unwrap(),
            case.statement,
            "{name}"
        );
        assert_eq!(
            canonicalize(&case.statement),
            case.canonical,
            "{name}: jcs of the object"
        );
        assert_eq!(
            String::from_utf8(statement.canonical_bytes()).unwrap(),
            case.canonical,
            "{name}: Statement::canonical_bytes"
        );
        assert_eq!(
            statement.request_digest(),
            case.request_digest,
            "{name}: request_digest"
        );
        assert_eq!(
            sha256_hex(case.canonical.as_bytes()),
            case.request_digest,
            "{name}"
        );

        let body = b64_decode(&case.body).unwrap();
        assert_eq!(statement.check_body(&body), Ok(()), "{name}: body");
        let mut other = body.clone();
        other.push(0);
        assert!(statement.check_body(&other).is_err(), "{name}: longer body");
    }
}

#[derive(Deserialize)]
struct DecisionCase {
    name: String,
    seed: String,
    public_key: String,
    decision: Value,
    signing_input: String,
    signature: String,
}

#[test]
fn decisions_reproduce_signing_input_and_signature() {
    for case in load::<DecisionCase>("decisions.json") {
        let name = &case.name;
        let key = seed_key(&case.seed);
        let public: VerifyingKey = decode_public_key(&case.public_key).unwrap();
        assert_eq!(
            key.verifying_key(),
            public,
            "{name}: public key of the seed"
        );
        assert_eq!(encode_public_key(&public), case.public_key, "{name}");

        let decision: Decision = serde_json::from_value(case.decision.clone())
            .unwrap_or_else(|e| panic!("{name}: not a Decision: {e}"));
        assert_eq!(
            serde_json::to_value(&decision).unwrap(),
            case.decision,
            "{name}"
        );
        assert_eq!(decision.key_id, key_id_for(&public), "{name}: key_id");

        let input = decision.signing_input();
        assert_eq!(
            hex::encode(&input),
            case.signing_input,
            "{name}: signing input"
        );
        assert!(input.starts_with(DECISION_DOMAIN));
        assert_eq!(
            &input[DECISION_DOMAIN.len()..],
            canonicalize(&case.decision).as_bytes(),
            "{name}"
        );

        assert_eq!(decision.sign(&key), case.signature, "{name}: signature");
        assert_eq!(decision.verify(&public, &case.signature), Ok(()), "{name}");

        // A flipped bit in R, in S, or in the signed object fails.
        for i in [0, 40, 63] {
            assert_eq!(
                decision.verify(&public, &flip_signature(&case.signature, i)),
                Err(SignatureError::Invalid),
                "{name}: signature byte {i} flipped"
            );
        }
        let mut changed = decision.clone();
        let mut digest = hex::decode(&changed.request_digest).unwrap();
        digest[0] ^= 0x01;
        changed.request_digest = hex::encode(digest);
        assert_eq!(
            changed.verify(&public, &case.signature),
            Err(SignatureError::Invalid),
            "{name}: digest changed"
        );
        let mut changed = decision.clone();
        changed.comment = match &decision.comment {
            None => Some(String::new()),
            Some(_) => None,
        };
        assert_eq!(
            changed.verify(&public, &case.signature),
            Err(SignatureError::Invalid),
            "{name}: comment null <-> text"
        );
    }
}

#[test]
fn decisions_reference_the_statement_vectors() {
    let digests: Vec<String> = load::<StatementCase>("statements.json")
        .into_iter()
        .map(|s| s.request_digest)
        .collect();
    for case in load::<DecisionCase>("decisions.json") {
        let digest = case.decision["request_digest"].as_str().unwrap();
        assert!(digests.iter().any(|d| d == digest), "{}", case.name);
    }
}

#[derive(Deserialize)]
struct SessionCase {
    name: String,
    seed: String,
    public_key: String,
    nonce: String,
    signing_input: String,
    signature: String,
}

#[test]
fn sessions_reproduce_signature() {
    for case in load::<SessionCase>("sessions.json") {
        let name = &case.name;
        let key = seed_key(&case.seed);
        let public = decode_public_key(&case.public_key).unwrap();
        assert_eq!(key.verifying_key(), public, "{name}");

        let mut input = SESSION_DOMAIN.to_vec();
        input.extend_from_slice(case.nonce.as_bytes());
        assert_eq!(
            hex::encode(&input),
            case.signing_input,
            "{name}: signing input"
        );

        assert_eq!(
            sign_nonce(&key, &case.nonce),
            case.signature,
            "{name}: signature"
        );
        assert_eq!(verify_nonce(&public, &case.nonce, &case.signature), Ok(()));
        for i in [0, 40, 63] {
            assert_eq!(
                verify_nonce(&public, &case.nonce, &flip_signature(&case.signature, i)),
                Err(SignatureError::Invalid),
                "{name}: signature byte {i} flipped"
            );
        }
        let other_nonce = format!("{}x", case.nonce);
        assert_eq!(
            verify_nonce(&public, &other_nonce, &case.signature),
            Err(SignatureError::Invalid),
            "{name}: other nonce"
        );
    }
}

#[derive(Deserialize)]
struct AppSigningCase {
    name: String,
    app: String,
    algorithm: String,
    method: String,
    path: String,
    query: String,
    timestamp: String,
    nonce: String,
    body: String,
    secret: Option<String>,
    private_key: Option<String>,
    public_key: Option<String>,
    string_to_sign: String,
    signature: String,
    headers: std::collections::BTreeMap<String, String>,
}

#[test]
fn app_requests_reproduce_every_signature_and_refuse_any_changed_field() {
    use countersign_core::app_request::{
        check_nonce, decode_private_key, AppSigner, AppVerifier, HmacSecret, SignedRequest, HEADERS,
    };
    for case in load::<AppSigningCase>("app-signing.json") {
        let name = &case.name;
        let signer = match case.algorithm.as_str() {
            "hmac-sha256" => AppSigner::Hmac(
                HmacSecret::new(case.secret.clone().expect("secret").into_bytes()).unwrap(),
            ),
            "ed25519" => {
                let key = decode_private_key(case.private_key.as_deref().expect("key")).unwrap();
                assert_eq!(
                    encode_public_key(&key.verifying_key()),
                    case.public_key.clone().expect("public key"),
                    "{name}"
                );
                AppSigner::Ed25519(key)
            }
            other => panic!("{name}: unknown algorithm {other}"),
        };
        let verifier: AppVerifier = match &case.public_key {
            Some(public) => AppVerifier::Ed25519(decode_public_key(public).unwrap()),
            None => signer.verifier(),
        };
        check_nonce(&case.nonce).unwrap_or_else(|e| panic!("{name}: {e}"));
        let body = b64_decode(&case.body).unwrap();
        let timestamp = case.timestamp.parse().unwrap();
        let request = SignedRequest::new(
            &case.app,
            &case.method,
            &case.path,
            &case.query,
            timestamp,
            &case.nonce,
            &body,
        );
        assert_eq!(request.string_to_sign(), case.string_to_sign, "{name}");
        assert_eq!(request.sign(&signer), case.signature, "{name}");
        let headers: std::collections::BTreeMap<String, String> = request
            .headers(&signer)
            .into_iter()
            .map(|(n, v)| (n.to_string(), v))
            .collect();
        assert_eq!(headers, case.headers, "{name}");
        assert_eq!(HEADERS.len(), case.headers.len(), "{name}");
        assert_eq!(request.verify(&verifier, &case.signature), Ok(()), "{name}");

        // One changed field or byte anywhere, and the signature no longer verifies.
        let mut other_body = body.clone();
        other_body.push(b'x');
        let changed: Vec<(&str, SignedRequest<'_>)> = vec![
            (
                "app",
                SignedRequest {
                    app: "other-app",
                    ..request.clone()
                },
            ),
            (
                "method",
                SignedRequest {
                    method: if case.method == "DELETE" {
                        "GET"
                    } else {
                        "DELETE"
                    },
                    ..request.clone()
                },
            ),
            (
                "path",
                SignedRequest {
                    path: "/v1/proxy/",
                    ..request.clone()
                },
            ),
            (
                "query",
                SignedRequest {
                    query: "wait=24",
                    ..request.clone()
                },
            ),
            (
                "timestamp",
                SignedRequest {
                    timestamp: timestamp.plus(std::time::Duration::from_secs(1)),
                    ..request.clone()
                },
            ),
            (
                "nonce",
                SignedRequest {
                    nonce: "0000000000000000x",
                    ..request.clone()
                },
            ),
            (
                "body",
                SignedRequest::new(
                    &case.app,
                    &case.method,
                    &case.path,
                    &case.query,
                    timestamp,
                    &case.nonce,
                    &other_body,
                ),
            ),
        ];
        for (field, other) in changed {
            assert_eq!(
                other.verify(&verifier, &case.signature),
                Err(SignatureError::Invalid),
                "{name}: changed {field}"
            );
        }
        for i in [0, 5, case.signature.len() * 3 / 4 - 1] {
            let flipped = flip_signature(&case.signature, i);
            assert!(
                request.verify(&verifier, &flipped).is_err(),
                "{name}: flipped byte {i}"
            );
        }
    }
}
