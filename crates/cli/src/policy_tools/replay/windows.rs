//! Rate limits simulated as the service counts them: per app, policy and rule, a match is
//! counted at the call's `created_at` (in milliseconds) and a rule is full when `count`
//! matches lie within the last `per` (`at_ms > now - per`).

use countersign_service::config::Config;
use countersign_service::policy::RateCounts;
use std::collections::{HashMap, VecDeque};
use std::time::Duration;

/// How far out of time order entries may be (they are in commit order, which can differ
/// from `created_at` by the time a request took): matches are kept this much longer than
/// their period so counting stays exact.
const SLACK_MS: i64 = 60_000;

/// The rate-limited rules of a config, each with a slot.
#[derive(Debug)]
pub struct Slots<'c> {
    by_rule: HashMap<(&'c str, &'c str), usize>,
    per_ms: Vec<i64>,
}

impl<'c> Slots<'c> {
    /// Every rule of `config` that has `at_most`.
    pub fn new(config: &'c Config) -> Self {
        let mut by_rule = HashMap::new();
        let mut per_ms = Vec::new();
        for policy in &config.policies {
            for rule in &policy.rules {
                if let Some(limit) = rule.at_most {
                    by_rule.insert((policy.id.as_str(), rule.id.as_str()), per_ms.len());
                    per_ms.push(millis(limit.per));
                }
            }
        }
        Self { by_rule, per_ms }
    }

    /// The longest period of any rule (zero without rate limits).
    pub fn longest(&self) -> Duration {
        Duration::from_millis(self.per_ms.iter().copied().max().unwrap_or(0) as u64)
    }

    fn slot(&self, policy: &str, rule: &str) -> Option<usize> {
        self.by_rule.get(&(policy, rule)).copied()
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 4)
}

/// The matches counted so far, per app and slot, times in milliseconds in order.
#[derive(Debug, Default)]
pub struct Windows {
    per_app: HashMap<String, Vec<VecDeque<i64>>>,
}

impl Windows {
    /// Counts as `app` sees them at `now_ms`.
    pub fn counts<'a>(&'a self, slots: &'a Slots<'_>, app: &str, now_ms: i64) -> AppCounts<'a> {
        AppCounts {
            slots_by_rule: slots,
            windows: self.per_app.get(app).map(Vec::as_slice),
            now_ms,
        }
    }

    /// Counts a match of `rule` of `policy` by `app` at `at_ms`.
    pub fn record(&mut self, slots: &Slots<'_>, app: &str, policy: &str, rule: &str, at_ms: i64) {
        let Some(slot) = slots.slot(policy, rule) else {
            return;
        };
        if !self.per_app.contains_key(app) {
            self.per_app
                .insert(app.to_string(), vec![VecDeque::new(); slots.per_ms.len()]);
        }
        let window = &mut self.per_app.get_mut(app).expect("inserted above")[slot];
        // Nearly always at the end: entries come in commit order.
        let at = window.len() - window.iter().rev().take_while(|&&t| t > at_ms).count();
        window.insert(at, at_ms);
        let keep_after = at_ms - slots.per_ms[slot] - SLACK_MS;
        while window.front().is_some_and(|&t| t <= keep_after) {
            window.pop_front();
        }
    }
}

/// One app's counts at one moment.
#[derive(Debug, Clone, Copy)]
pub struct AppCounts<'a> {
    slots_by_rule: &'a Slots<'a>,
    windows: Option<&'a [VecDeque<i64>]>,
    now_ms: i64,
}

impl RateCounts for AppCounts<'_> {
    fn count(&self, policy: &str, rule: &str, per: Duration) -> u64 {
        let (Some(windows), Some(slot)) = (self.windows, self.slots_by_rule.slot(policy, rule))
        else {
            return 0;
        };
        let after = self.now_ms - millis(per);
        let window = &windows[slot];
        (window.len() - window.partition_point(|&t| t <= after)) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    const CONFIG: &str = include_str!("../../../tests/fixtures/policy-example.toml");

    #[test]
    fn counts_slide_per_app_and_rule() {
        let config = Config::parse(CONFIG, Path::new("x.toml")).unwrap();
        let slots = Slots::new(&config);
        assert_eq!(slots.longest(), Duration::from_secs(3600));
        let mut w = Windows::default();
        let hour = Duration::from_secs(3600);
        for t in [0, 1_000, 2_000] {
            w.record(&slots, "a", "refunds", "small-refunds", t);
        }
        // Not rate-limited: not counted.
        w.record(&slots, "a", "refunds", "large-refunds", 0);
        assert_eq!(
            w.counts(&slots, "a", 2_000)
                .count("refunds", "small-refunds", hour),
            3
        );
        assert_eq!(
            w.counts(&slots, "b", 2_000)
                .count("refunds", "small-refunds", hour),
            0
        );
        assert_eq!(
            w.counts(&slots, "a", 2_000)
                .count("refunds", "large-refunds", hour),
            0
        );
        // `at_ms > now - per`: the match at 0 leaves the window at exactly 1h.
        assert_eq!(
            w.counts(&slots, "a", 3_600_000)
                .count("refunds", "small-refunds", hour),
            2
        );
        assert_eq!(
            w.counts(&slots, "a", 3_602_000)
                .count("refunds", "small-refunds", hour),
            0
        );
        // A match out of order by a little is still counted exactly.
        w.record(&slots, "a", "refunds", "small-refunds", 3_700_000);
        w.record(&slots, "a", "refunds", "small-refunds", 3_650_000);
        assert_eq!(
            w.counts(&slots, "a", 3_700_000)
                .count("refunds", "small-refunds", hour),
            2
        );
    }
}
