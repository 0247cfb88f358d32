//! The client against a small in-process fake of the service's wallet endpoints: pairing,
//! sign-in, token renewal after a 401, listing, review (honest and tampered), decisions and
//! the event stream. The real service is exercised by the workspace's `tests` crate.

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use countersign_approver::{ApproverClient, ApproverError, HttpClients, Pairing, Verdict};
use countersign_core::api::*;
use countersign_core::encoding::{random_token, sha256_hex};
use countersign_core::keys::{decode_public_key, generate_signing_key, key_id_for, VerifyingKey};
use countersign_core::pairing::verify_pair_request;
use countersign_core::session::verify_nonce;
use countersign_core::{ApprovalStatus, DeepLink, ServerUrl, Statement, Timestamp};
use futures::StreamExt;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use uuid::Uuid;

const CODE: &str = "abcdefghijklmnop_-12";
const SERVICE: &str = "svc_fake";
const BODY: &[u8] = b"{\"order\":42}";

#[derive(Default)]
struct Fake {
    key: Option<VerifyingKey>,
    nonces: HashSet<String>,
    tokens: HashSet<String>,
    sign_ins: usize,
    tamper: bool,
    decisions: Vec<DecisionRequest>,
    last_event_ids: Vec<Option<String>>,
    /// When set, `POST /v1/pair` answers with this (a hostile or broken service).
    pair_answer: Option<PairResponse>,
    /// Every pairing request received.
    pair_requests: Vec<PairRequest>,
    /// When set, the pending list is this many approvals (ids 1..=n), paged by `limit` and
    /// `before` as the service does.
    many: Option<u128>,
}

type Shared = Arc<Mutex<Fake>>;

fn err(status: StatusCode, code: &str, message: &str) -> Response {
    let body = ErrorBody {
        error: ErrorDetail {
            code: code.into(),
            message: message.into(),
            rule: None,
        },
    };
    (status, Json(body)).into_response()
}

fn approval_id() -> Uuid {
    "019a0000-0000-7000-8000-0000000000aa".parse().unwrap()
}

fn statement() -> Statement {
    Statement {
        v: 1,
        service: SERVICE.into(),
        approval_id: approval_id(),
        app: "support-agent".into(),
        grant: "payments".into(),
        method: "POST".into(),
        url: "https://api.example.com/v1/refunds".into(),
        headers: [("content-type".to_string(), "application/json".to_string())].into(),
        body_sha256: sha256_hex(BODY),
        body_size: BODY.len() as u64,
        reason: "Refund order 42".into(),
        created_at: Timestamp::now(),
        expires_at: Timestamp::now().plus(std::time::Duration::from_secs(3600)),
        policy_id: "refunds".into(),
    }
}

fn authorized(fake: &Shared, headers: &HeaderMap) -> bool {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    token.is_some_and(|t| fake.lock().unwrap().tokens.contains(t))
}

fn preview(code: &str) -> Result<PairPreview, Box<Response>> {
    if code != CODE {
        return Err(Box::new(err(
            StatusCode::NOT_FOUND,
            "unknown_code",
            "no such pairing code",
        )));
    }
    Ok(PairPreview {
        service_id: SERVICE.into(),
        approver_id: "alice".into(),
        approver_name: "Alice Example".into(),
        expires_at: Timestamp::now(),
    })
}

fn app(fake: Shared) -> Router {
    Router::new()
        .route(
            "/v1/pair/preview",
            post(|Json(r): Json<PairPreviewRequest>| async move {
                preview(&r.code).map(Json).map_err(|e| *e).into_response()
            }),
        )
        .route(
            "/v1/pair",
            post(|State(f): State<Shared>, Json(r): Json<PairRequest>| async move {
                let p = match preview(&r.code) {
                    Ok(p) => p,
                    Err(e) => return *e,
                };
                let key = decode_public_key(&r.public_key).unwrap();
                if r.service_id != SERVICE || verify_pair_request(&r, &key).is_err() {
                    return err(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "bad_pairing_signature",
                        "no proof of possession",
                    );
                }
                let mut f = f.lock().unwrap();
                f.pair_requests.push(r.clone());
                if let Some(answer) = f.pair_answer.clone() {
                    return Json(answer).into_response();
                }
                f.key = Some(key);
                Json(PairResponse {
                    service_id: p.service_id,
                    approver_id: p.approver_id,
                    approver_name: p.approver_name,
                    key_id: key_id_for(&key),
                })
                .into_response()
            }),
        )
        .route(
            "/v1/wallet/challenge",
            post(|State(f): State<Shared>, Json(_): Json<ChallengeRequest>| async move {
                let nonce = random_token();
                f.lock().unwrap().nonces.insert(nonce.clone());
                Json(Challenge {
                    nonce,
                    expires_at: Timestamp::now(),
                })
            }),
        )
        .route(
            "/v1/wallet/session",
            post(|State(f): State<Shared>, Json(r): Json<SessionRequest>| async move {
                let mut f = f.lock().unwrap();
                let key = f.key.unwrap();
                if r.key_id != key_id_for(&key)
                    || !f.nonces.remove(&r.nonce)
                    || verify_nonce(&key, &r.nonce, &r.signature).is_err()
                {
                    return err(StatusCode::UNAUTHORIZED, "bad_signature", "no");
                }
                f.sign_ins += 1;
                let token = random_token();
                f.tokens.insert(token.clone());
                Json(SessionToken {
                    token,
                    expires_at: Timestamp::now().plus(std::time::Duration::from_secs(900)),
                })
                .into_response()
            }),
        )
        .route(
            "/v1/wallet/approvals",
            get(
                |State(f): State<Shared>,
                 headers: HeaderMap,
                 Query(q): Query<HashMap<String, String>>| async move {
                    if !authorized(&f, &headers) {
                        return err(StatusCode::UNAUTHORIZED, "unauthorized", "sign in");
                    }
                    if q.get("status").map(String::as_str) != Some("pending") {
                        return err(StatusCode::BAD_REQUEST, "bad_filter", "only pending here");
                    }
                    let s = statement();
                    if let Some(n) = f.lock().unwrap().many {
                        let limit: u128 = q.get("limit").and_then(|l| l.parse().ok()).unwrap_or(200);
                        let before = q
                            .get("before")
                            .and_then(|b| b.parse::<Uuid>().ok())
                            .map_or(n + 1, |b| b.as_u128());
                        let approvals = (1..before.min(n + 1))
                            .rev()
                            .take(limit.min(1000) as usize)
                            .map(|i| WalletApprovalSummary {
                                approval_id: Uuid::from_u128(i),
                                status: ApprovalStatus::Pending,
                                reason: format!("Request {i}"),
                                app: s.app.clone(),
                                grant: s.grant.clone(),
                                method: s.method.clone(),
                                url: s.url.clone(),
                                created_at: s.created_at,
                                expires_at: s.expires_at,
                                progress: None,
                            })
                            .collect();
                        return Json(WalletApprovalList { approvals }).into_response();
                    }
                    Json(WalletApprovalList {
                        approvals: vec![WalletApprovalSummary {
                            approval_id: s.approval_id,
                            status: ApprovalStatus::Pending,
                            reason: s.reason,
                            app: s.app,
                            grant: s.grant,
                            method: s.method,
                            url: s.url,
                            created_at: s.created_at,
                            expires_at: s.expires_at,
                            progress: None,
                        }],
                    })
                    .into_response()
                },
            ),
        )
        .route(
            "/v1/wallet/approvals/{id}",
            get(
                |State(f): State<Shared>, headers: HeaderMap, Path(id): Path<Uuid>| async move {
                    if !authorized(&f, &headers) {
                        return err(StatusCode::UNAUTHORIZED, "unauthorized", "sign in");
                    }
                    if id != approval_id() {
                        return err(StatusCode::NOT_FOUND, "not_found", "no such approval");
                    }
                    let mut s = statement();
                    let request_digest = s.request_digest();
                    if f.lock().unwrap().tamper {
                        s.reason = "Refund order 42 (small amount)".into();
                    }
                    Json(WalletApprovalDetail {
                        statement: s,
                        request_digest,
                        body: BODY.to_vec(),
                        status: ApprovalStatus::Pending,
                        decisions: vec![],
                        quorum: 1,
                        policy: Default::default(),
                        response: None,
                        failure: None,
                    })
                    .into_response()
                },
            ),
        )
        .route(
            "/v1/wallet/approvals/{id}/decision",
            post(
                |State(f): State<Shared>,
                 headers: HeaderMap,
                 Json(r): Json<DecisionRequest>| async move {
                    if !authorized(&f, &headers) {
                        return err(StatusCode::UNAUTHORIZED, "unauthorized", "sign in");
                    }
                    let mut f = f.lock().unwrap();
                    let d = &r.decision;
                    if d.verify(&f.key.unwrap(), &r.signature).is_err()
                        || d.request_digest != statement().request_digest()
                    {
                        return err(StatusCode::UNPROCESSABLE_ENTITY, "bad_decision", "no");
                    }
                    if !f.decisions.is_empty() {
                        return err(StatusCode::CONFLICT, "already_decided", "decided before");
                    }
                    let summary = DecisionSummary {
                        approver_id: d.approver_id.clone(),
                        decision: d.decision,
                        comment: d.comment.clone(),
                        decided_at: d.decided_at,
                    };
                    f.decisions.push(r.clone());
                    Json(DecisionResponse {
                        status: ApprovalStatus::Approved,
                        decisions: vec![summary],
                    })
                    .into_response()
                },
            ),
        )
        .route(
            "/v1/wallet/events",
            get(|State(f): State<Shared>, headers: HeaderMap| async move {
                if !authorized(&f, &headers) {
                    return err(StatusCode::UNAUTHORIZED, "unauthorized", "sign in");
                }
                let last = headers
                    .get("last-event-id")
                    .map(|v| v.to_str().unwrap().to_string());
                f.lock().unwrap().last_event_ids.push(last);
                let data = |kind: &str, status: &str| {
                    format!(
                        r#"{{"kind":"{kind}","approval_id":"{}","status":"{status}"}}"#,
                        approval_id()
                    )
                };
                let body = format!(
                    ": keep-alive\r\n\r\nevent: approval.decided\r\nid: 8\r\ndata: {}\r\n\r\nevent: approval.completed\r\nid: 9\r\ndata: {}\r\n\r\n",
                    data("approval.decided", "approved"),
                    data("approval.completed", "succeeded"),
                );
                ([(header::CONTENT_TYPE, "text/event-stream")], body).into_response()
            }),
        )
        .with_state(fake)
}

async fn start() -> (ServerUrl, Shared) {
    let fake: Shared = Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = app(fake.clone());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (ServerUrl::parse(&format!("http://{addr}")).unwrap(), fake)
}

async fn paired() -> (ApproverClient, Shared) {
    let (server, fake) = start().await;
    let http = HttpClients::new("fake-service-test").unwrap();
    let key = generate_signing_key();
    let pairing = ApproverClient::pair(&http.requests, &server, CODE, "test device", &key)
        .await
        .unwrap();
    (ApproverClient::with_clients(&http, pairing, key), fake)
}

#[tokio::test]
async fn preview_and_pair() {
    let (server, _fake) = start().await;
    let http = reqwest::Client::new();
    let preview = ApproverClient::preview(&http, &server, CODE).await.unwrap();
    assert_eq!(preview.approver_name, "Alice Example");

    let err = ApproverClient::preview(&http, &server, "wrong-code-0000000")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ApproverError::Api { status, code, .. } if *status == 404 && code == "unknown_code"),
        "{err}"
    );

    let key = generate_signing_key();
    let link = DeepLink::parse(&DeepLink::pair(&server, CODE)).unwrap();
    let pairing = ApproverClient::pair_link(&http, &link, "laptop", &key)
        .await
        .unwrap();
    assert_eq!(
        pairing,
        Pairing {
            server,
            service_id: SERVICE.into(),
            approver_id: "alice".into(),
            approver_name: "Alice Example".into(),
            key_id: key_id_for(&key.verifying_key()),
        }
    );
}

#[tokio::test]
async fn pairing_proves_possession_of_the_key_for_the_previewed_service() {
    let (server, fake) = start().await;
    let http = reqwest::Client::new();
    let key = generate_signing_key();
    ApproverClient::pair(&http, &server, CODE, "laptop", &key)
        .await
        .unwrap();
    let sent = fake.lock().unwrap().pair_requests.clone();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].service_id, SERVICE);
    assert_eq!(verify_pair_request(&sent[0], &key.verifying_key()), Ok(()));
}

#[tokio::test]
async fn an_answer_for_another_key_service_or_approver_is_refused() {
    let (server, fake) = start().await;
    let http = reqwest::Client::new();
    let honest = |key: &countersign_core::keys::SigningKey| PairResponse {
        service_id: SERVICE.into(),
        approver_id: "alice".into(),
        approver_name: "Alice Example".into(),
        key_id: key_id_for(&key.verifying_key()),
    };
    let someone_else = generate_signing_key();
    type Edit = fn(&mut PairResponse, &str);
    let cases: [(&str, Edit); 3] = [
        ("key_id", |a, other| a.key_id = other.to_string()),
        ("service_id", |a, _| a.service_id = "svc_other".into()),
        ("approver_id", |a, _| a.approver_id = "mallory".into()),
    ];
    for (field, edit) in cases {
        let key = generate_signing_key();
        let mut answer = honest(&key);
        edit(&mut answer, &key_id_for(&someone_else.verifying_key()));
        fake.lock().unwrap().pair_answer = Some(answer);
        let err = ApproverClient::pair(&http, &server, CODE, "laptop", &key)
            .await
            .unwrap_err();
        assert!(
            matches!(&err, ApproverError::PairingMismatch { field: f, .. } if *f == field),
            "{field}: {err}"
        );
    }
}

#[tokio::test]
async fn plain_http_is_refused_before_anything_is_sent() {
    let http = reqwest::Client::new();
    let key = generate_signing_key();
    // Unroutable on purpose: nothing may be sent, so the refusal is immediate.
    for text in ["http://192.0.2.10:8470", "http://countersign.invalid"] {
        let server = ServerUrl::parse(text).unwrap();
        let err = ApproverClient::preview(&http, &server, CODE)
            .await
            .unwrap_err();
        assert!(matches!(err, ApproverError::InsecureServer(_)), "{err}");
        let link = DeepLink::parse(&DeepLink::pair(&server, CODE)).unwrap();
        let err = ApproverClient::pair_link(&http, &link, "laptop", &key)
            .await
            .unwrap_err();
        assert!(matches!(err, ApproverError::InsecureServer(_)), "{err}");
    }
}

#[tokio::test]
async fn list_review_decide_with_one_sign_in_and_renewal_after_401() {
    let (client, fake) = paired().await;

    let rows = client.list("pending").await.unwrap();
    assert_eq!(rows.len(), 1);
    let review = client.review(rows[0].approval_id).await.unwrap();
    assert_eq!(fake.lock().unwrap().sign_ins, 1, "the token is reused");

    // The service forgets all sessions (restart, expiry): the next call signs in again once.
    fake.lock().unwrap().tokens.clear();
    let answer = client
        .decide(&review, Verdict::Approve, Some("ok".into()))
        .await
        .unwrap();
    assert_eq!(answer.status, ApprovalStatus::Approved);
    assert_eq!(fake.lock().unwrap().sign_ins, 2);
    assert_eq!(fake.lock().unwrap().decisions.len(), 1);

    let again = client
        .decide(&review, Verdict::Deny, None)
        .await
        .unwrap_err();
    assert_eq!(again.status(), Some(409));
    assert_eq!(again.code(), Some("already_decided"));

    let bad = client.list("everything").await.unwrap_err();
    assert_eq!(bad.code(), Some("bad_filter"));
}

#[tokio::test]
async fn list_pages_beyond_the_services_first_page() {
    let (client, fake) = paired().await;
    fake.lock().unwrap().many = Some(2500);
    let rows = client.list("pending").await.unwrap();
    assert_eq!(rows.len(), 2500, "not one page of 200 or 1000");
    assert_eq!(rows[0].approval_id, Uuid::from_u128(2500), "newest first");
    assert_eq!(rows[2499].approval_id, Uuid::from_u128(1), "the oldest too");
}

#[tokio::test]
async fn a_tampered_statement_is_refused_and_nothing_is_signed() {
    let (client, fake) = paired().await;
    fake.lock().unwrap().tamper = true;
    let err = client.review(approval_id()).await.unwrap_err();
    assert!(matches!(err, ApproverError::DigestMismatch { .. }), "{err}");
    assert!(err.is_refused_content());
    assert!(fake.lock().unwrap().decisions.is_empty());
}

#[tokio::test]
async fn a_revoked_device_cannot_sign_in() {
    let (client, fake) = paired().await;
    fake.lock().unwrap().key = Some(generate_signing_key().verifying_key());
    let err = client.list("pending").await.unwrap_err();
    assert_eq!(err.status(), Some(401));
    assert_eq!(err.code(), Some("bad_signature"));
}

#[tokio::test]
async fn events_stream_with_last_event_id() {
    let (client, fake) = paired().await;
    let events: Vec<_> = client.events(Some(7)).await.unwrap().collect().await;
    let ids: Vec<u64> = events.iter().map(|e| e.as_ref().unwrap().0).collect();
    assert_eq!(ids, vec![8, 9]);
    let (_, last) = events[1].as_ref().unwrap();
    assert_eq!(last.kind, WalletEventKind::Completed);
    assert_eq!(last.status, ApprovalStatus::Succeeded);

    let _ = client.events(None).await.unwrap().collect::<Vec<_>>().await;
    assert_eq!(
        fake.lock().unwrap().last_event_ids,
        vec![Some("7".to_string()), None]
    );
}
