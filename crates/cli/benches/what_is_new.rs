//! "What is new" over 10,000 past approvals (goal < 50 ms): `countersign_core::novelty::compare`
//! of one refund against a synthetic history of 10,000 approved refunds (six JSON fields each,
//! one recurring IBAN among three, amounts spread out), timed 20 times; min and median
//! printed. The history's fetch from the service is not included (it is paged, 1,000 a page).
//!
//! ```text
//! cargo bench -p countersign-cli --bench what_is_new
//! ```

use countersign_core::novelty::{compare, Request};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

fn main() {
    let headers: BTreeMap<String, String> =
        [("content-type".to_string(), "application/json".to_string())].into();
    let ibans = [
        "DE89370400440532013000",
        "FR1420041010050500013M02606",
        "NL91ABNA0417164300",
    ];
    let bodies: Vec<String> = (0..10_000)
        .map(|i| {
            format!(
                r#"{{"order": "A-{i}", "amount": {}, "currency": "EUR", "iban": "{}", "customer": {{"id": "c_{}", "tier": "gold"}}}}"#,
                500 + (i * 37) % 5000,
                ibans[i % 3],
                i % 700
            )
        })
        .collect();
    let history: Vec<Request> = bodies
        .iter()
        .map(|b| Request {
            app: "support-agent",
            headers: &headers,
            body: b.as_bytes(),
        })
        .collect();
    let now = r#"{"order": "A-99999", "amount": 199900, "currency": "EUR", "iban": "GB33BUKB20201555555555", "customer": {"id": "c_1", "tier": "gold"}, "memo": "urgent"}"#;
    let current = Request {
        app: "batch-job",
        headers: &headers,
        body: now.as_bytes(),
    };
    let mut times: Vec<Duration> = Vec::new();
    let mut found = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        found = compare(&current, &history);
        times.push(t.elapsed());
    }
    times.sort();
    println!("what is new over {} past approvals:", history.len());
    println!(
        "  min {:.1} ms, median {:.1} ms (goal < 50 ms)",
        times[0].as_secs_f64() * 1e3,
        times[times.len() / 2].as_secs_f64() * 1e3
    );
    for n in &found {
        println!("  ! {n}");
    }
}
