//! `countersign policy replay`: the calls a service recorded, decided again under another
//! config, compared with what happened.
//!
//! The `requested` audit entries are read in audit order from a read-only connection
//! ([`History`]), one at a time, with the body from the approval's row. Each call's facts are
//! rebuilt: the method, the path (the statement URL's path below the new config's grant's
//! base URL path), the `content-type` header and the body. Calls are evaluated with
//! [`evaluate_call`] and rate limits simulated in time order as the service counts them (a
//! rate-limited rule that decides is counted unless the call is refused). Entries before
//! `--since` are read as far back as the longest rate-limit period, to fill the windows, and
//! are not reported.
//!
//! Denied calls are never recorded (they are refused before anything is stored), so what
//! happened is always "ran" or "needed approval".

mod entry;
mod render;
mod tally;
mod windows;

pub use entry::Was;
pub use tally::{ChangeRow, ChangedApproval, Kind, RefusedRow, ReplayReport, RuleRow};

use super::PolicyToolError;
use countersign_core::Timestamp;
use countersign_service::call::check_path;
use countersign_service::config::{AppConfig, Config, GrantConfig};
use countersign_service::policy::{evaluate_call, CallDecision, CallFacts, Outcome};
use countersign_service::store::{History, RequestedRow};
use std::collections::HashMap;
use tally::{Refusal, Tally};
use windows::{Slots, Windows};

/// How to replay.
#[derive(Debug, Clone, Default)]
pub struct ReplayOptions {
    /// Report only calls made at or after this instant (all when `None`).
    pub since: Option<Timestamp>,
    /// How many changed approval ids to keep (all when `None`).
    pub keep_changed: Option<usize>,
}

/// Replays the history of the database `config` names under `config`.
pub async fn replay(
    config: &Config,
    options: &ReplayOptions,
) -> Result<ReplayReport, PolicyToolError> {
    let history =
        History::open_config(config)
            .await
            .map_err(|source| PolicyToolError::OpenDatabase {
                database: config.server.database.to_string(),
                source,
            })?;
    let mut replayer = Replayer::new(config, options);
    let read = history
        .for_each_requested(replayer.read_from(), |row| replayer.push(&row))
        .await;
    history.close().await;
    read?;
    Ok(replayer.finish())
}

/// A grant of the new config with its base URL's path, ready to strip.
struct PreparedGrant<'c> {
    grant: &'c GrantConfig,
    base_path: &'c str,
}

/// Replays entries pushed in audit order; [`Replayer::finish`] gives the report.
pub struct Replayer<'c> {
    config: &'c Config,
    apps: HashMap<&'c str, &'c AppConfig>,
    grants: HashMap<&'c str, PreparedGrant<'c>>,
    slots: Slots<'c>,
    windows: Windows,
    since: Option<Timestamp>,
    since_text: Option<String>,
    tally: Tally<'c>,
}

impl<'c> Replayer<'c> {
    /// A replayer of history under `config`.
    pub fn new(config: &'c Config, options: &ReplayOptions) -> Self {
        Self {
            config,
            apps: config.apps.iter().map(|a| (a.id.as_str(), a)).collect(),
            grants: config
                .grants
                .iter()
                .map(|g| {
                    let base_path = g.base_url.path().trim_end_matches('/');
                    (
                        g.id.as_str(),
                        PreparedGrant {
                            grant: g,
                            base_path,
                        },
                    )
                })
                .collect(),
            slots: Slots::new(config),
            windows: Windows::default(),
            since: options.since,
            since_text: options.since.map(|t| t.to_string()),
            tally: Tally::new(config, options),
        }
    }

    /// The first instant to read from: `since` less the longest rate-limit period.
    pub fn read_from(&self) -> Option<Timestamp> {
        let since = self.since?;
        let back = i64::try_from(self.slots.longest().as_secs()).unwrap_or(0);
        Timestamp::from_unix(since.unix().saturating_sub(back)).or(Some(since))
    }

    /// Replays one entry.
    pub fn push(&mut self, row: &RequestedRow<'_>) {
        let Some(recorded) = entry::parse(row.data) else {
            if self
                .since_text
                .as_deref()
                .is_none_or(|since| row.at >= since)
            {
                self.tally.unreadable += 1;
            }
            return;
        };
        let reported = self.since.is_none_or(|since| recorded.created_at >= since);
        let Some(body) = row.body else {
            if reported {
                self.tally.unreadable += 1;
            }
            return;
        };
        let result = self.decide(&recorded, body);
        if reported {
            self.tally.add(&recorded, result.as_ref());
        }
    }

    /// Evaluates one call and counts its rate-limited matches.
    fn decide(
        &mut self,
        recorded: &entry::Recorded<'_>,
        body: &[u8],
    ) -> Result<CallDecision, Refusal> {
        let app = *self.apps.get(&*recorded.app).ok_or(Refusal::AppGone)?;
        let prepared = self
            .grants
            .get(&*recorded.grant)
            .ok_or(Refusal::GrantGone)?;
        if !app.grants.contains(&prepared.grant.id) {
            return Err(Refusal::GrantNotAllowed);
        }
        let url = url::Url::parse(&recorded.url).map_err(|_| Refusal::PathOutsideGrant)?;
        let path = entry::path_below(&url, prepared.base_path).ok_or(Refusal::PathOutsideGrant)?;
        check_path(path).map_err(|_| Refusal::InvalidPath)?;
        let facts = CallFacts {
            method: &recorded.method,
            path,
            content_type: recorded.content_type.as_deref(),
            body,
        };
        let now_ms = recorded.created_at.unix() * 1000;
        let counts = self.windows.counts(&self.slots, &app.id, now_ms);
        let decision = evaluate_call(self.config, app, prepared.grant, &facts, &counts)
            .map_err(|_| Refusal::GrantNotAllowed)?;
        if !matches!(decision.outcome, Outcome::Deny { .. }) {
            for (policy, rule, _) in decision.limited_rules() {
                self.windows
                    .record(&self.slots, &app.id, policy, rule, now_ms);
            }
        }
        Ok(decision)
    }

    /// The report.
    pub fn finish(self) -> ReplayReport {
        self.tally.finish()
    }
}

#[cfg(test)]
mod tests;
