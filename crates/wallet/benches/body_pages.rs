//! What the review screen's first page of a JSON body costs, by body size: the pages (core's
//! tokenizer, the head, nothing revealed yet) and page 0 revealed and encoded as JSON for the
//! view, against the baseline of revealing the whole body at once.
//!
//! `cargo bench -p countersign-wallet --bench body_pages` prints the median of 7 runs of each
//! step, the first page's cost relative to a 16 KiB body, and relative to the eager view.

use countersign_wallet::body::request_body_view;
use countersign_wallet::pages::BodyPages;
use std::time::{Duration, Instant};

/// A JSON body of about `bytes` bytes: an array of small objects, one member per line.
fn json_body(bytes: usize) -> String {
    let mut s = String::from("[");
    let mut i = 0;
    while s.len() < bytes {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&format!(
            r#"{{"order":"O-{i}","amount":{},"currency":"EUR","memo":"refund \u200b{i}"}}"#,
            i * 7 % 100_000
        ));
        i += 1;
    }
    s.push(']');
    s
}

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

fn main() {
    let ct = Some("application/json");
    let mut first: Option<Duration> = None;
    println!("body      eager view   pages (lazy)  page 0 + JSON  first page  vs 16 KiB  vs eager");
    for kib in [16usize, 64, 256, 1024] {
        let body = json_body(kib * 1024);
        let (mut eager_t, mut pages_t, mut page0_t) = (vec![], vec![], vec![]);
        for _ in 0..7 {
            let t0 = Instant::now();
            std::hint::black_box(request_body_view(body.as_bytes(), ct));
            let t1 = Instant::now();
            let pages = BodyPages::of(body.as_bytes(), ct);
            let t2 = Instant::now();
            let page = serde_json::to_string(&pages.page(0).unwrap()).unwrap();
            let t3 = Instant::now();
            std::hint::black_box(page);
            eager_t.push(t1 - t0);
            pages_t.push(t2 - t1);
            page0_t.push(t3 - t2);
        }
        let (eager, pages, page0) = (median(eager_t), median(pages_t), median(page0_t));
        let total = pages + page0;
        let base = *first.get_or_insert(total);
        println!(
            "{:>5} KiB {:>10.2?} {:>12.2?} {:>13.2?} {:>11.2?} {:>9.1}x {:>8.2}x",
            kib,
            eager,
            pages,
            page0,
            total,
            total.as_secs_f64() / base.as_secs_f64(),
            total.as_secs_f64() / eager.as_secs_f64()
        );
    }
}
