//! Approvals and their decisions; every state change is a compare-and-set with its audit entry.

use super::audit::{append, AuditDraft};
use super::{corrupt, Store, StoreError};
use crate::policy::{satisfied, RequiredGate, Seats};
use countersign_core::api::{DecisionSummary, ExecutionFailure, PolicyMatch, UpstreamResponse};
use countersign_core::audit::AuditEntry;
use countersign_core::{ApprovalStatus, Decision, Statement, Timestamp, Verdict};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use uuid::Uuid;

/// An approval to insert.
#[derive(Debug, Clone)]
pub struct NewApproval {
    /// The reviewed statement (its `approval_id` is the row's id).
    pub statement: Statement,
    /// Its digest.
    pub request_digest: String,
    /// The request body.
    pub body: Vec<u8>,
    /// The gates it needs (none for a call that runs at once).
    pub requirement: Vec<RequiredGate>,
    /// The rule that decided in each policy.
    pub matched: Vec<PolicyMatch>,
    /// `pending`, or `executing` for a call that needs no approval.
    pub status: ApprovalStatus,
    /// The execution's lease, for a call stored as `executing`.
    pub lease: Option<Lease>,
}

/// Who runs an execution, and until when it counts as running unless renewed: when the lease
/// lapses (its replica died), any replica settles the approval as outcome unknown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The replica (one random id per service start).
    pub owner: String,
    /// Unix milliseconds.
    pub until_ms: i64,
}

/// What [`Store::create_approval`] did.
#[derive(Debug, Clone)]
pub enum Created {
    /// Stored; the first audit entry.
    Stored(AuditEntry),
    /// Nothing stored: a rate-limited rule filled since it was counted.
    RateLimitFilled,
    /// Nothing stored: the app has its most pending approvals already.
    TooManyPending,
}

/// Matches of one rule by one app after a time (ms): `policy, rule, app, since`.
const RULE_HITS_SINCE: &str =
    "SELECT COUNT(*) FROM rule_hits WHERE policy_id = $1 AND rule_id = $2 AND app_id = $3 AND at_ms > $4";

/// A match of a rate-limited rule, counted when the approval is created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleHit {
    /// The policy.
    pub policy: String,
    /// The rule.
    pub rule: String,
    /// The calling app.
    pub app: String,
    /// The rule's limit: matches allowed within the period.
    pub count: u32,
    /// The period, in milliseconds.
    pub per_ms: i64,
}

/// Everyone eligible in any of `gates`, sorted, once each.
pub fn eligible_people(gates: &[RequiredGate]) -> Vec<String> {
    let set: std::collections::BTreeSet<&String> = gates.iter().flat_map(|g| &g.members).collect();
    set.into_iter().cloned().collect()
}

/// Approvals needed over all gates.
pub fn approvals_needed(gates: &[RequiredGate]) -> u32 {
    gates.iter().map(|g| g.quorum).sum()
}

impl NewApproval {
    /// The record this approval has once stored (no decisions, no outcome yet).
    pub fn record(&self) -> ApprovalRecord {
        ApprovalRecord {
            id: self.statement.approval_id,
            status: self.status,
            statement: self.statement.clone(),
            request_digest: self.request_digest.clone(),
            body: self.body.clone(),
            quorum: approvals_needed(&self.requirement),
            approvers: eligible_people(&self.requirement),
            requirement: self.requirement.clone(),
            matched: self.matched.clone(),
            decisions: Vec::new(),
            response: None,
            failure: None,
        }
    }
}

/// A stored approval with its decisions.
#[derive(Debug, Clone)]
pub struct ApprovalRecord {
    /// Its id.
    pub id: Uuid,
    /// Its state.
    pub status: ApprovalStatus,
    /// The statement.
    pub statement: Statement,
    /// Its digest.
    pub request_digest: String,
    /// The request body.
    pub body: Vec<u8>,
    /// Approvals needed over all gates.
    pub quorum: u32,
    /// Everyone eligible in its gates when it was created.
    pub approvers: Vec<String>,
    /// The gates it needs, as snapshotted when it was created.
    pub requirement: Vec<RequiredGate>,
    /// The rule that decided in each policy.
    pub matched: Vec<PolicyMatch>,
    /// Accepted decisions (withdrawn ones excluded), oldest first.
    pub decisions: Vec<DecisionSummary>,
    /// The provider's answer once succeeded.
    pub response: Option<UpstreamResponse>,
    /// Why execution failed.
    pub failure: Option<ExecutionFailure>,
}

/// What events about an approval need: its state and statement, and who may see it.
#[derive(Debug, Clone)]
pub struct ApprovalHead {
    /// Its id.
    pub id: Uuid,
    /// Its state now.
    pub status: ApprovalStatus,
    /// The statement.
    pub statement: Statement,
    /// Approvals needed over all gates.
    pub quorum: u32,
    /// Everyone eligible in its gates when it was created, sorted.
    pub approvers: Vec<String>,
}

impl ApprovalRecord {
    /// The parts of the record events need.
    pub fn head(&self) -> ApprovalHead {
        ApprovalHead {
            id: self.id,
            status: self.status,
            statement: self.statement.clone(),
            quorum: self.quorum,
            approvers: self.approvers.clone(),
        }
    }
}

/// A row of an approver's listing.
#[derive(Debug, Clone)]
pub struct ListedApproval {
    /// The approval.
    pub id: Uuid,
    /// Its state.
    pub status: ApprovalStatus,
    /// Its statement.
    pub statement: Statement,
    /// The gates it needs (snapshot).
    pub requirement: Vec<RequiredGate>,
    /// Who has approved (not withdrawn).
    pub approved_by: Vec<String>,
}

/// Which approvals a listing returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListFilter {
    /// Pending and not yet past their window.
    Pending,
    /// Exactly this state.
    Status(ApprovalStatus),
    /// Every final state (history).
    Final,
    /// Everything.
    All,
}

/// What became of a decision.
#[derive(Debug, Clone)]
pub enum DecideOutcome {
    /// Stored; the approval is now in `status`.
    Recorded {
        /// State after the decision.
        status: ApprovalStatus,
        /// The audit entry.
        entry: AuditEntry,
        /// All decisions so far.
        decisions: Vec<DecisionSummary>,
    },
    /// The approval is no longer pending.
    NotPending(ApprovalStatus),
    /// The window has closed.
    Expired,
    /// This approver or key has decided this approval already.
    Duplicate,
    /// The device key has been revoked.
    Revoked,
    /// No such approval.
    Missing,
}

/// What an execution left behind.
#[derive(Debug, Clone)]
pub enum Outcome<'a> {
    /// Nothing to store.
    None,
    /// The provider's answer.
    Response(&'a UpstreamResponse),
    /// The failure.
    Failure(&'a ExecutionFailure),
}

/// The `id < cursor` bound of a page: the id itself, or for the first page `"g"`, which sorts
/// after every id (UUIDv7 text is lower-case hex and `-`, compared byte by byte: the
/// PostgreSQL schema gives ids the "C" collation).
pub(super) fn before_cursor(before: Option<Uuid>) -> String {
    before.map_or_else(|| "g".to_string(), |b| b.to_string())
}

pub(super) fn status_of(text: &str) -> Result<ApprovalStatus, StoreError> {
    text.parse().map_err(corrupt)
}

async fn decisions_of(
    conn: &mut AnyConnection,
    id: &str,
) -> Result<Vec<DecisionSummary>, StoreError> {
    let rows = sqlx::query(
        "SELECT approver_id, verdict, comment, decided_at FROM decisions WHERE approval_id = $1 AND withdrawn_at IS NULL ORDER BY decided_at, rowid",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            let verdict: String = r.try_get("verdict")?;
            Ok(DecisionSummary {
                approver_id: r.try_get("approver_id")?,
                decision: serde_json::from_value(serde_json::Value::String(verdict))
                    .map_err(corrupt)?,
                comment: r.try_get("comment")?,
                decided_at: Timestamp::from_unix(r.try_get("decided_at")?)
                    .ok_or_else(|| corrupt("decided_at"))?,
            })
        })
        .collect()
}

fn parse_json<T: serde::de::DeserializeOwned>(
    text: Option<String>,
) -> Result<Option<T>, StoreError> {
    text.map(|t| serde_json::from_str(&t).map_err(corrupt))
        .transpose()
}

async fn record_from_row(
    conn: &mut AnyConnection,
    row: &AnyRow,
) -> Result<ApprovalRecord, StoreError> {
    let id: String = row.try_get("id")?;
    let statement: String = row.try_get("statement")?;
    let approvers: Vec<String> = sqlx::query_scalar(
        "SELECT approver_id FROM approval_approvers WHERE approval_id = $1 ORDER BY approver_id",
    )
    .bind(&id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(ApprovalRecord {
        id: id.parse().map_err(corrupt)?,
        status: status_of(&row.try_get::<String, _>("status")?)?,
        statement: serde_json::from_str(&statement).map_err(corrupt)?,
        request_digest: row.try_get("request_digest")?,
        body: row.try_get("body")?,
        quorum: row.try_get::<i64, _>("quorum")? as u32,
        approvers,
        requirement: serde_json::from_str(&row.try_get::<String, _>("requirement")?)
            .map_err(corrupt)?,
        matched: serde_json::from_str(&row.try_get::<String, _>("matched")?).map_err(corrupt)?,
        decisions: decisions_of(conn, &id).await?,
        response: parse_json(row.try_get("response")?)?,
        failure: parse_json(row.try_get("failure")?)?,
    })
}

impl Store {
    /// Inserts an approval with its audit entries (`requested`, and `execution_started` for a
    /// call that needs no approval) and counts its rate-limited rule matches; returns the
    /// first entry. Stores nothing and counts nothing when a pending approval would be one
    /// more than `max_pending` for its app ([`Created::TooManyPending`]), or when a rule of
    /// `hits` reached its limit since the caller counted ([`Created::RateLimitFilled`]:
    /// evaluate again).
    pub async fn create_approval(
        &self,
        new: &NewApproval,
        hits: &[RuleHit],
        audit: Vec<AuditDraft>,
        max_pending: u32,
    ) -> Result<Created, StoreError> {
        let s = &new.statement;
        let id = s.approval_id.to_string();
        let now_ms = s.created_at.unix() * 1000;
        let mut tx = self.begin_write().await?;
        if new.status == ApprovalStatus::Pending {
            // One row, kept exact by triggers (migration 0004).
            let pending: i64 =
                sqlx::query_scalar("SELECT pending FROM app_pending WHERE app_id = $1")
                    .bind(&s.app)
                    .fetch_optional(&mut *tx)
                    .await?
                    .unwrap_or(0);
            if pending >= i64::from(max_pending) {
                return Ok(Created::TooManyPending);
            }
        }
        for hit in hits {
            let count: i64 = sqlx::query_scalar(RULE_HITS_SINCE)
                .bind(&hit.policy)
                .bind(&hit.rule)
                .bind(&hit.app)
                .bind(now_ms - hit.per_ms)
                .fetch_one(&mut *tx)
                .await?;
            if count >= i64::from(hit.count) {
                return Ok(Created::RateLimitFilled);
            }
            sqlx::query(
                "INSERT INTO rule_hits (policy_id, rule_id, app_id, at_ms) VALUES ($1, $2, $3, $4)",
            )
            .bind(&hit.policy)
            .bind(&hit.rule)
            .bind(&hit.app)
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "INSERT INTO approvals (id, app_id, grant_id, policy_id, quorum, status, statement, request_digest, body, created_at, expires_at, requirement, matched, method, lease_owner, lease_until_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
        )
        .bind(&id)
        .bind(&s.app)
        .bind(&s.grant)
        .bind(&s.policy_id)
        .bind(i64::from(approvals_needed(&new.requirement)))
        .bind(new.status.as_str())
        .bind(serde_json::to_string(s).map_err(corrupt)?)
        .bind(&new.request_digest)
        .bind(&new.body)
        .bind(s.created_at.unix())
        .bind(s.expires_at.unix())
        .bind(serde_json::to_string(&new.requirement).map_err(corrupt)?)
        .bind(serde_json::to_string(&new.matched).map_err(corrupt)?)
        .bind(&s.method)
        .bind(new.lease.as_ref().map(|l| l.owner.clone()))
        .bind(new.lease.as_ref().map(|l| l.until_ms))
        .execute(&mut *tx)
        .await?;
        for approver in eligible_people(&new.requirement) {
            sqlx::query(
                "INSERT INTO approval_approvers (approval_id, approver_id) VALUES ($1, $2)",
            )
            .bind(&id)
            .bind(approver)
            .execute(&mut *tx)
            .await?;
        }
        let mut first = None;
        for draft in audit {
            let entry = append(&mut tx, draft, s.created_at).await?;
            first.get_or_insert(entry);
        }
        let first = first.ok_or_else(|| corrupt("an approval needs at least one audit entry"))?;
        self.commit(tx).await?;
        Ok(Created::Stored(first))
    }

    /// Matches of each `(policy, rule, per_ms)` by `app` within its period before `now`.
    pub async fn rule_hit_counts(
        &self,
        app: &str,
        rules: &[(String, String, i64)],
        now: Timestamp,
    ) -> Result<std::collections::HashMap<(String, String), u64>, StoreError> {
        let mut counts = std::collections::HashMap::new();
        for (policy, rule, per_ms) in rules {
            let count: i64 = sqlx::query_scalar(RULE_HITS_SINCE)
                .bind(policy)
                .bind(rule)
                .bind(app)
                .bind(now.unix() * 1000 - per_ms)
                .fetch_one(&self.reader)
                .await?;
            counts.insert((policy.clone(), rule.clone()), count.max(0) as u64);
        }
        Ok(counts)
    }

    /// One approval with its decisions.
    pub async fn approval(&self, id: Uuid) -> Result<Option<ApprovalRecord>, StoreError> {
        let mut conn = self.reader.acquire().await?;
        let row = sqlx::query("SELECT * FROM approvals WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&mut *conn)
            .await?;
        match row {
            Some(row) => Ok(Some(record_from_row(&mut conn, &row).await?)),
            None => Ok(None),
        }
    }

    /// Records a verified decision if the approval is still pending and in its window and
    /// the device is not revoked, and moves it to `denied` (any deny) or `approved` (every
    /// gate of `gates` — the requirement with who is eligible now — filled by distinct
    /// people). The caller has checked that the approver is eligible.
    pub async fn decide(
        &self,
        decision: &Decision,
        signature: &str,
        gates: &[RequiredGate],
        now: Timestamp,
    ) -> Result<DecideOutcome, StoreError> {
        let id = decision.approval_id.to_string();
        let mut tx = self.begin_write().await?;
        let revoked: Option<Option<i64>> =
            sqlx::query_scalar("SELECT revoked_at FROM devices WHERE key_id = $1")
                .bind(&decision.key_id)
                .fetch_optional(&mut *tx)
                .await?;
        if !matches!(revoked, Some(None)) {
            return Ok(DecideOutcome::Revoked);
        }
        let row: Option<(String, i64)> =
            sqlx::query_as("SELECT status, expires_at FROM approvals WHERE id = $1")
                .bind(&id)
                .fetch_optional(&mut *tx)
                .await?;
        let Some((status, expires_at)) = row else {
            return Ok(DecideOutcome::Missing);
        };
        let status = status_of(&status)?;
        if status != ApprovalStatus::Pending {
            return Ok(DecideOutcome::NotPending(status));
        }
        if now.unix() >= expires_at {
            return Ok(DecideOutcome::Expired);
        }
        let seen: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM decisions WHERE approval_id = $1 AND (approver_id = $2 OR key_id = $3)",
        )
        .bind(&id)
        .bind(&decision.approver_id)
        .bind(&decision.key_id)
        .fetch_one(&mut *tx)
        .await?;
        if seen > 0 {
            return Ok(DecideOutcome::Duplicate);
        }
        sqlx::query(
            "INSERT INTO decisions (approval_id, approver_id, key_id, verdict, comment, decided_at, signed, signature)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&id)
        .bind(&decision.approver_id)
        .bind(&decision.key_id)
        .bind(decision.decision.as_str())
        .bind(&decision.comment)
        .bind(decision.decided_at.unix())
        .bind(serde_json::to_string(decision).map_err(corrupt)?)
        .bind(signature)
        .execute(&mut *tx)
        .await?;
        let approvers: Vec<String> = sqlx::query_scalar(
            "SELECT approver_id FROM decisions WHERE approval_id = $1 AND verdict = 'approve' AND withdrawn_at IS NULL ORDER BY decided_at, rowid",
        )
        .bind(&id)
        .fetch_all(&mut *tx)
        .await?;
        let seats: Vec<Seats> = gates
            .iter()
            .map(|g| Seats {
                members: &g.members,
                quorum: g.quorum,
            })
            .collect();
        let next = match decision.decision {
            Verdict::Deny => ApprovalStatus::Denied,
            Verdict::Approve if satisfied(&seats, &approvers) => ApprovalStatus::Approved,
            Verdict::Approve => ApprovalStatus::Pending,
        };
        let filled = crate::policy::assign(&seats, &approvers);
        if next != ApprovalStatus::Pending {
            sqlx::query("UPDATE approvals SET status = $1 WHERE id = $2 AND status = 'pending'")
                .bind(next.as_str())
                .bind(&id)
                .execute(&mut *tx)
                .await?;
        }
        let draft = AuditDraft::approval(
            countersign_core::audit::AuditKind::Decided,
            decision.approval_id,
            format!("approver:{}", decision.approver_id),
            serde_json::json!({
                "decision": decision,
                "signature": signature,
                "status": next,
                "gates": gates.iter().zip(&filled).map(|(g, who)| serde_json::json!({
                    "policy": g.policy,
                    "gate": g.gate,
                    "quorum": g.quorum,
                    "approved_by": who,
                })).collect::<Vec<_>>(),
            }),
        );
        let entry = append(&mut tx, draft, now).await?;
        let decisions = decisions_of(&mut tx, &id).await?;
        self.commit(tx).await?;
        Ok(DecideOutcome::Recorded {
            status: next,
            entry,
            decisions,
        })
    }

    /// Moves an approval from one of `from` to `to`, storing `outcome`, with its audit entry.
    /// `None` when the approval was not in one of `from` (nothing changed).
    pub async fn transition(
        &self,
        id: Uuid,
        from: &[ApprovalStatus],
        to: ApprovalStatus,
        outcome: Outcome<'_>,
        audit: AuditDraft,
        now: Timestamp,
    ) -> Result<Option<AuditEntry>, StoreError> {
        let (response, failure) = match outcome {
            Outcome::None => (None, None),
            Outcome::Response(r) => (Some(serde_json::to_string(r).map_err(corrupt)?), None),
            Outcome::Failure(f) => (None, Some(serde_json::to_string(f).map_err(corrupt)?)),
        };
        let placeholders: Vec<String> = (5..5 + from.len()).map(|n| format!("${n}")).collect();
        let sql = format!(
            "UPDATE approvals SET status = $1, response = COALESCE($2, response), failure = COALESCE($3, failure)
             WHERE id = $4 AND status IN ({})",
            placeholders.join(", ")
        );
        let mut tx = self.begin_write().await?;
        let mut query = sqlx::query(&sql)
            .bind(to.as_str())
            .bind(response)
            .bind(failure)
            .bind(id.to_string());
        for st in from {
            query = query.bind(st.as_str());
        }
        if query.execute(&mut *tx).await?.rows_affected() == 0 {
            return Ok(None);
        }
        let entry = append(&mut tx, audit, now).await?;
        self.commit(tx).await?;
        Ok(Some(entry))
    }

    /// Moves an `approved` approval to `executing` under `lease`, with its audit entry; `None`
    /// when it was not `approved` (another task or replica claimed it). Only the claimer sends.
    pub async fn claim_execution(
        &self,
        id: Uuid,
        lease: &Lease,
        audit: AuditDraft,
        now: Timestamp,
    ) -> Result<Option<AuditEntry>, StoreError> {
        let mut tx = self.begin_write().await?;
        let claimed = sqlx::query(
            "UPDATE approvals SET status = 'executing', lease_owner = $1, lease_until_ms = $2
             WHERE id = $3 AND status = 'approved'",
        )
        .bind(&lease.owner)
        .bind(lease.until_ms)
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        if claimed.rows_affected() == 0 {
            return Ok(None);
        }
        let entry = append(&mut tx, audit, now).await?;
        self.commit(tx).await?;
        Ok(Some(entry))
    }

    /// Extends the lease of an execution `lease.owner` still holds; false when it no longer
    /// does (the execution was settled, e.g. as lapsed by another replica).
    pub async fn renew_lease(&self, id: Uuid, lease: &Lease) -> Result<bool, StoreError> {
        let renewed = sqlx::query(
            "UPDATE approvals SET lease_until_ms = $1
             WHERE id = $2 AND status = 'executing' AND lease_owner = $3",
        )
        .bind(lease.until_ms)
        .bind(id.to_string())
        .bind(&lease.owner)
        .execute(&self.writer)
        .await?;
        Ok(renewed.rows_affected() == 1)
    }

    /// Executions whose lease has lapsed at `now_ms` (or that never had one: stored before
    /// leases existed), oldest first.
    pub async fn lapsed_executions(&self, now_ms: i64) -> Result<Vec<Uuid>, StoreError> {
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM approvals WHERE status = 'executing'
               AND (lease_until_ms IS NULL OR lease_until_ms < $1) ORDER BY id",
        )
        .bind(now_ms)
        .fetch_all(&self.reader)
        .await?;
        ids.iter().map(|s| s.parse().map_err(corrupt)).collect()
    }

    /// Settles an execution as `execution_failed` with `failure` if its lease has still lapsed
    /// at `now` (checked in the same transaction, so a lease renewed meanwhile wins), with its
    /// audit entry; `None` when it had not.
    pub async fn settle_lapsed(
        &self,
        id: Uuid,
        failure: &ExecutionFailure,
        audit: AuditDraft,
        now: Timestamp,
        now_ms: i64,
    ) -> Result<Option<AuditEntry>, StoreError> {
        let mut tx = self.begin_write().await?;
        let settled = sqlx::query(
            "UPDATE approvals SET status = 'execution_failed', failure = $1
             WHERE id = $2 AND status = 'executing'
               AND (lease_until_ms IS NULL OR lease_until_ms < $3)",
        )
        .bind(serde_json::to_string(failure).map_err(corrupt)?)
        .bind(id.to_string())
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
        if settled.rows_affected() == 0 {
            return Ok(None);
        }
        let entry = append(&mut tx, audit, now).await?;
        self.commit(tx).await?;
        Ok(Some(entry))
    }

    /// Pending approvals whose window has closed at `now` (at most `limit`).
    pub async fn due_for_expiry(
        &self,
        now: Timestamp,
        limit: i64,
    ) -> Result<Vec<Uuid>, StoreError> {
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM approvals WHERE status = 'pending' AND expires_at <= $1 ORDER BY expires_at LIMIT $2",
        )
        .bind(now.unix())
        .bind(limit)
        .fetch_all(&self.reader)
        .await?;
        ids.iter().map(|s| s.parse().map_err(corrupt)).collect()
    }

    /// The earliest `expires_at` among pending approvals.
    pub async fn next_expiry(&self) -> Result<Option<Timestamp>, StoreError> {
        let secs: Option<i64> =
            sqlx::query_scalar("SELECT MIN(expires_at) FROM approvals WHERE status = 'pending'")
                .fetch_one(&self.reader)
                .await?;
        Ok(secs.and_then(Timestamp::from_unix))
    }

    /// Ids of approvals in `status`, oldest first.
    pub async fn ids_in_status(&self, status: ApprovalStatus) -> Result<Vec<Uuid>, StoreError> {
        let ids: Vec<String> =
            sqlx::query_scalar("SELECT id FROM approvals WHERE status = $1 ORDER BY id")
                .bind(status.as_str())
                .fetch_all(&self.reader)
                .await?;
        ids.iter().map(|s| s.parse().map_err(corrupt)).collect()
    }

    /// Approvals naming `approver_id`, newest first (by id: UUID v7, so by creation), only
    /// those older than `before` when given (the cursor of the next page).
    pub async fn list_for_approver(
        &self,
        approver_id: &str,
        filter: ListFilter,
        now: Timestamp,
        before: Option<Uuid>,
        limit: i64,
    ) -> Result<Vec<ListedApproval>, StoreError> {
        let condition = match filter {
            ListFilter::Pending => "a.status = 'pending' AND a.expires_at > $4",
            ListFilter::Status(_) => "a.status = $4",
            ListFilter::Final => "a.status NOT IN ('pending', 'approved', 'executing')",
            ListFilter::All => "1 = 1",
        };
        let sql = format!(
            "SELECT a.id, a.status, a.statement, a.requirement,
                (SELECT string_agg(d.approver_id, ',') FROM decisions d
                 WHERE d.approval_id = a.id AND d.verdict = 'approve' AND d.withdrawn_at IS NULL) AS approved
             FROM approvals a
             JOIN approval_approvers p ON p.approval_id = a.id
             WHERE p.approver_id = $1 AND {condition} AND a.id < $2
             ORDER BY a.id DESC LIMIT $3"
        );
        let mut query = sqlx::query(&sql)
            .bind(approver_id)
            .bind(before_cursor(before))
            .bind(limit);
        match filter {
            ListFilter::Pending => query = query.bind(now.unix()),
            ListFilter::Status(st) => query = query.bind(st.as_str()),
            ListFilter::Final | ListFilter::All => {}
        }
        let rows = query.fetch_all(&self.reader).await?;
        rows.iter()
            .map(|r| {
                let id: String = r.try_get("id")?;
                let st: String = r.try_get("status")?;
                let statement: String = r.try_get("statement")?;
                let requirement: String = r.try_get("requirement")?;
                let approved: Option<String> = r.try_get("approved")?;
                Ok(ListedApproval {
                    id: id.parse().map_err(corrupt)?,
                    status: status_of(&st)?,
                    statement: serde_json::from_str(&statement).map_err(corrupt)?,
                    requirement: serde_json::from_str(&requirement).map_err(corrupt)?,
                    approved_by: approved
                        .map(|a| a.split(',').map(str::to_string).collect())
                        .unwrap_or_default(),
                })
            })
            .collect()
    }
}
