//! Checks of `[[policy]]` entries and their rules.

use super::{Ctx, Result, DEFAULT_WINDOW, MAX_WINDOW};
use crate::config::raw::{RawPolicy, RawRule};
use crate::config::{PathPattern, PolicyConfig, Rule};
use std::time::Duration;

pub(super) fn check_policy(
    ctx: &Ctx,
    raw: &RawPolicy,
    approver_ids: &[String],
) -> Result<PolicyConfig> {
    let (id, subject) = ctx.id("policy", &raw.id)?;
    let require_approval = raw.require_approval.as_ref().is_none_or(|r| *r.get_ref());
    let mut approvers: Vec<String> = Vec::new();
    let listed = raw.approvers.as_ref().map_or(&[][..], |a| a.get_ref());
    for approver in listed {
        let name = approver.get_ref();
        let fail = |message: String| ctx.err(&approver.span(), &subject, "approvers", message);
        if !approver_ids.contains(name) {
            let defined = if approver_ids.is_empty() {
                "no approvers are defined".to_string()
            } else {
                format!("defined: {}", approver_ids.join(", "))
            };
            return Err(fail(format!("unknown approver {name:?} ({defined})")));
        }
        if approvers.contains(name) {
            return Err(fail(format!("approver {name:?} is listed twice")));
        }
        approvers.push(name.clone());
    }
    if require_approval && approvers.is_empty() {
        return Err(ctx.err(
            &raw.approvers.as_ref().map_or(raw.id.span(), |a| a.span()),
            &subject,
            "approvers",
            "a policy that requires approval needs at least one approver",
        ));
    }
    let quorum = match &raw.quorum {
        None => 1,
        Some(q) => u32::try_from(*q.get_ref())
            .ok()
            .filter(|n| *n >= 1 && (approvers.is_empty() || *n as usize <= approvers.len()))
            .ok_or_else(|| {
                ctx.err(
                    &q.span(),
                    &subject,
                    "quorum",
                    format!(
                        "quorum {} must be between 1 and the number of approvers ({})",
                        q.get_ref(),
                        approvers.len()
                    ),
                )
            })?,
    };
    let window = match &raw.window {
        None => DEFAULT_WINDOW,
        Some(w) => {
            let window = ctx.duration(w, &subject, "window")?;
            let fail = |message: &str| ctx.err(&w.span(), &subject, "window", message);
            if window < Duration::from_secs(1) || window > MAX_WINDOW {
                return Err(fail("the window must be between 1s and 30d"));
            }
            if window.subsec_nanos() != 0 {
                return Err(fail("the window must be a whole number of seconds"));
            }
            window
        }
    };
    if let (false, Some(first)) = (require_approval, raw.rule.first()) {
        return Err(ctx.err(
            &first.path.span(),
            &subject,
            "rule",
            "rules have no effect when require_approval = false; remove them or require approval",
        ));
    }
    let rules = raw
        .rule
        .iter()
        .enumerate()
        .map(|(index, rule)| check_rule(ctx, rule, &format!("{subject} rule {}", index + 1)))
        .collect::<Result<Vec<_>>>()?;
    Ok(PolicyConfig {
        id,
        require_approval,
        approvers,
        quorum,
        window,
        rules,
    })
}

fn check_rule(ctx: &Ctx, raw: &RawRule, subject: &str) -> Result<Rule> {
    let methods = raw
        .methods
        .iter()
        .map(|m| {
            let method = m.get_ref().to_ascii_uppercase();
            if method.is_empty() || http::Method::from_bytes(method.as_bytes()).is_err() {
                return Err(ctx.err(
                    &m.span(),
                    subject,
                    "methods",
                    format!("{:?} is not an HTTP method", m.get_ref()),
                ));
            }
            Ok(method)
        })
        .collect::<Result<Vec<_>>>()?;
    let path = PathPattern::parse(raw.path.get_ref())
        .map_err(|e| ctx.err(&raw.path.span(), subject, "path", e))?;
    Ok(Rule { methods, path })
}
