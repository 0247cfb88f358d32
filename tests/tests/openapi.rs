//! The OpenAPI document covers every route: the paths the router holds are exactly the
//! document's, each documented operation is served (not 404/405) and every other method of
//! those paths is answered 405 `method_not_allowed`, against the running service. A route
//! registered without its `#[utoipa::path]` fails here.

use countersign_service::routes;
use countersign_tests::{AppOptions, TestApp};
use serde_json::Value;
use std::collections::BTreeSet;
use std::time::Duration;

/// The methods probed on each path (HEAD is answered wherever GET is, by axum).
const METHODS: [&str; 6] = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/// The paths the router holds, read from its `Debug` form, the only place axum lists its route
/// table (`path_router: PathRouter { routes: …, node: Node { paths: {RouteId(1): "/v1/proxy",
/// …} } }`, printed before the fallback router). Panics when the form is not found, so a
/// change of axum's format fails the test instead of emptying the list.
fn router_paths(router: &axum::Router) -> BTreeSet<String> {
    let text = format!("{router:?}");
    let start = text
        .find("paths: {")
        .expect("axum's Router Debug lists the route paths")
        + "paths: {".len();
    let mut paths = BTreeSet::new();
    let mut quoted: Option<String> = None;
    for c in text[start..].chars() {
        match (&mut quoted, c) {
            (None, '}') => break,
            (None, '"') => quoted = Some(String::new()),
            (None, _) => {}
            (Some(path), '"') => {
                paths.insert(std::mem::take(path));
                quoted = None;
            }
            (Some(path), c) => path.push(c),
        }
    }
    paths
}

/// `path` with each `{parameter}` filled in (a UUID fits every parameter the API has).
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|s| {
            if s.starts_with('{') {
                uuid::Uuid::now_v7().to_string()
            } else {
                s.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

async fn probe(app: &TestApp, method: &str, path: &str) -> (u16, Option<String>) {
    let response = app
        .http
        .request(method.parse().unwrap(), format!("{}{path}", app.base_url))
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    (status, body["error"]["code"].as_str().map(str::to_string))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_names_every_route_and_every_route_it_names_is_served() {
    let app = TestApp::spawn(AppOptions::default()).await;
    let served: Value = app
        .http
        .get(format!("{}/v1/openapi.json", app.base_url))
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        served,
        serde_json::to_value(routes::document()).unwrap(),
        "the served document is the generated one"
    );
    let documented = served["paths"].as_object().unwrap();

    let router = routes::router(app.state().clone());
    let held = router_paths(&router);
    let named: BTreeSet<String> = documented.keys().cloned().collect();
    assert_eq!(held, named, "the router's paths and the document's differ");

    for path in &held {
        let url = concrete(path);
        for method in METHODS {
            let (status, code) = probe(&app, method, &url).await;
            let at = format!("{method} {path} (as {url}): {status} {code:?}");
            if documented[path].get(method.to_lowercase()).is_some() {
                assert!(
                    status != 405 && code.as_deref() != Some("no_such_endpoint"),
                    "documented, not served: {at}"
                );
            } else {
                assert_eq!(
                    (status, code.as_deref()),
                    (405, Some("method_not_allowed")),
                    "served, not documented: {at}"
                );
            }
        }
    }
    // The probe tells served from unserved: a path the router does not hold is 404.
    assert_eq!(
        probe(&app, "GET", "/v1/not-a-route").await,
        (404, Some("no_such_endpoint".to_string()))
    );
    app.shutdown().await;
}

#[test]
fn the_route_table_is_read_from_the_router() {
    use axum::routing::get;
    let router: axum::Router = axum::Router::new()
        .route("/a/{id}", get(|| async {}))
        .route("/b", get(|| async {}))
        .fallback(|| async {});
    assert_eq!(
        router_paths(&router),
        BTreeSet::from(["/a/{id}".to_string(), "/b".to_string()])
    );
}
