//! Checks of `[[group]]` and `[[policy]]` entries: gates, rules, conditions, rate limits.

use super::{Ctx, Result, DEFAULT_WINDOW, MAX_WINDOW};
use crate::config::raw::{RawCondition, RawGate, RawGroup, RawPolicy, RawRule};
use crate::config::{
    Action, Condition, Gate, GroupConfig, Literal, PathPattern, PolicyConfig, RateLimit, Rule, Test,
};
use crate::policy::{satisfied, Decimal, Seats};
use std::collections::BTreeSet;
use std::ops::Range;
use std::time::Duration;
use toml::Spanned;

/// The most bytes of a compiled `matches` expression.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// The policy form before gates, for the message that refuses it.
const NEW_FORM: &str = "policies now name gates and give each rule an action, e.g.\n\
    [[policy]]\n\
    id = \"refunds\"\n\
    [[policy.gate]]\n\
    id = \"finance\"\n\
    approvers = [\"alice\"]     # and/or groups = [\"…\"]\n\
    quorum = 1\n\
    [[policy.rule]]\n\
    id = \"reads\"\n\
    methods = [\"GET\"]\n\
    path = \"/v1/*\"\n\
    action = \"allow\"           # or \"deny\", or \"require\" with gates = [\"…\"]\n\
    Calls that match no rule need every gate (or the policy's `require = [\"…\"]`); \
    a policy that lets everything run says so with a rule path = \"/*\", action = \"allow\"";

pub(super) fn check_group(
    ctx: &Ctx,
    raw: &RawGroup,
    approver_ids: &[String],
) -> Result<GroupConfig> {
    let (id, subject) = ctx.id("group", &raw.id)?;
    let members = known_names(
        ctx,
        raw.members.get_ref(),
        approver_ids,
        "approver",
        &subject,
        "members",
    )?;
    if members.is_empty() {
        return Err(ctx.err(
            &raw.members.span(),
            &subject,
            "members",
            "a group needs at least one member",
        ));
    }
    Ok(GroupConfig { id, members })
}

/// Checks each name is one of `known` and listed once.
pub(super) fn known_names(
    ctx: &Ctx,
    names: &[Spanned<String>],
    known: &[String],
    kind: &str,
    subject: &str,
    field: &str,
) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for name in names {
        let text = name.get_ref();
        let fail = |message: String| ctx.err(&name.span(), subject, field, message);
        if !known.contains(text) {
            let defined = if known.is_empty() {
                format!("no {kind}s are defined")
            } else {
                format!("defined: {}", known.join(", "))
            };
            return Err(fail(format!("unknown {kind} {text:?} ({defined})")));
        }
        if out.contains(text) {
            return Err(fail(format!("{kind} {text:?} is listed twice")));
        }
        out.push(text.clone());
    }
    Ok(out)
}

pub(super) fn check_policy(
    ctx: &Ctx,
    raw: &RawPolicy,
    approver_ids: &[String],
    groups: &[GroupConfig],
) -> Result<PolicyConfig> {
    let (id, subject) = ctx.id("policy", &raw.id)?;
    refuse_old_form(ctx, raw, &subject)?;
    let window = check_window(ctx, raw, &subject)?;
    ctx.unique("gate", raw.gate.iter().map(|g| &g.id))?;
    let gates = raw
        .gate
        .iter()
        .map(|g| {
            check_gate(
                ctx,
                g,
                approver_ids,
                groups,
                &format!("{subject} gate {:?}", g.id.get_ref()),
            )
        })
        .collect::<Result<Vec<_>>>()?;
    let gate_ids: Vec<String> = gates.iter().map(|g| g.id.clone()).collect();
    let require = match &raw.require {
        None => gate_ids.clone(),
        Some(list) => {
            let ids = known_names(ctx, list.get_ref(), &gate_ids, "gate", &subject, "require")?;
            if ids.is_empty() {
                return Err(ctx.err(
                    &list.span(),
                    &subject,
                    "require",
                    "name at least one gate (calls that match no rule need approval)",
                ));
            }
            ids
        }
    };
    satisfiable(
        ctx,
        &gates,
        &require,
        &raw.require.as_ref().map_or(raw.id.span(), |r| r.span()),
        &subject,
        "require",
    )?;

    let mut rule_ids: Vec<String> = Vec::new();
    let mut rules = Vec::new();
    for (index, raw_rule) in raw.rule.iter().enumerate() {
        let rule_subject = format!("{subject} rule {}", index + 1);
        let rule = check_rule(ctx, raw_rule, index, &gates, &require, &rule_subject)?;
        if rule_ids.contains(&rule.id) {
            let span = raw_rule
                .id
                .as_ref()
                .map_or(raw_rule.path.span(), |i| i.span());
            return Err(ctx.err(
                &span,
                &rule_subject,
                "id",
                format!("duplicate rule id {:?}", rule.id),
            ));
        }
        rule_ids.push(rule.id.clone());
        rules.push(rule);
    }
    if gates.is_empty() && !rules.iter().any(is_catch_all) {
        return Err(ctx.err(
            &raw.id.span(),
            &subject,
            "gate",
            "the policy has no gates, so calls that match no rule could never be approved: add a [[policy.gate]], or end with a rule path = \"/*\", action = \"allow\" (or \"deny\") without methods or conditions",
        ));
    }
    Ok(PolicyConfig {
        id,
        window,
        require,
        gates,
        rules,
    })
}

/// A rule that matches every call: no methods, `/*`, no conditions or limit.
fn is_catch_all(rule: &Rule) -> bool {
    rule.methods.is_empty()
        && rule.path.as_str() == "/*"
        && rule.when.is_empty()
        && rule.at_most.is_none()
}

fn refuse_old_form(ctx: &Ctx, raw: &RawPolicy, subject: &str) -> Result<()> {
    let old = [
        ("require_approval", &raw.require_approval),
        ("approvers", &raw.approvers),
        ("quorum", &raw.quorum),
    ];
    for (field, value) in old {
        if let Some(value) = value {
            return Err(ctx.err(
                &value.span(),
                subject,
                field,
                format!("`{field}` on a policy is the old form and is no longer read; {NEW_FORM}"),
            ));
        }
    }
    Ok(())
}

fn check_window(ctx: &Ctx, raw: &RawPolicy, subject: &str) -> Result<Duration> {
    let Some(w) = &raw.window else {
        return Ok(DEFAULT_WINDOW);
    };
    let window = ctx.duration(w, subject, "window")?;
    let fail = |message: &str| ctx.err(&w.span(), subject, "window", message);
    if window < Duration::from_secs(1) || window > MAX_WINDOW {
        return Err(fail("the window must be between 1s and 30d"));
    }
    if window.subsec_nanos() != 0 {
        return Err(fail("the window must be a whole number of seconds"));
    }
    Ok(window)
}

fn check_gate(
    ctx: &Ctx,
    raw: &RawGate,
    approver_ids: &[String],
    groups: &[GroupConfig],
    subject: &str,
) -> Result<Gate> {
    let (id, _) = ctx.id("gate", &raw.id)?;
    let approvers = known_names(
        ctx,
        &raw.approvers,
        approver_ids,
        "approver",
        subject,
        "approvers",
    )?;
    let group_ids: Vec<String> = groups.iter().map(|g| g.id.clone()).collect();
    let group_names = known_names(ctx, &raw.groups, &group_ids, "group", subject, "groups")?;
    let mut members: BTreeSet<String> = approvers.iter().cloned().collect();
    for name in &group_names {
        if let Some(group) = groups.iter().find(|g| g.id == *name) {
            members.extend(group.members.iter().cloned());
        }
    }
    if members.is_empty() {
        return Err(ctx.err(
            &raw.id.span(),
            subject,
            "approvers",
            "a gate needs approvers and/or groups with members",
        ));
    }
    let quorum = match &raw.quorum {
        None => 1,
        Some(q) => u32::try_from(*q.get_ref())
            .ok()
            .filter(|n| *n >= 1 && *n as usize <= members.len())
            .ok_or_else(|| {
                ctx.err(
                    &q.span(),
                    subject,
                    "quorum",
                    format!(
                        "quorum {} must be between 1 and the number of people in the gate ({})",
                        q.get_ref(),
                        members.len()
                    ),
                )
            })?,
    };
    Ok(Gate {
        id,
        approvers,
        groups: group_names,
        members: members.into_iter().collect(),
        quorum,
    })
}

/// Refuses a set of gates that distinct people could never fill together.
fn satisfiable(
    ctx: &Ctx,
    gates: &[Gate],
    ids: &[String],
    span: &Range<usize>,
    subject: &str,
    field: &str,
) -> Result<()> {
    let chosen: Vec<&Gate> = ids
        .iter()
        .filter_map(|id| gates.iter().find(|g| g.id == *id))
        .collect();
    let seats: Vec<Seats> = chosen
        .iter()
        .map(|g| Seats {
            members: &g.members,
            quorum: g.quorum,
        })
        .collect();
    let everyone: Vec<String> = chosen
        .iter()
        .flat_map(|g| g.members.iter().cloned())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if satisfied(&seats, &everyone) {
        return Ok(());
    }
    let needed: u32 = chosen.iter().map(|g| g.quorum).sum();
    Err(ctx.err(
        span,
        subject,
        field,
        format!(
            "gates {} need {needed} approvals by distinct people, which their {} eligible people cannot give (one person counts toward one gate only)",
            ids.join(" + "),
            everyone.len()
        ),
    ))
}

fn check_rule(
    ctx: &Ctx,
    raw: &RawRule,
    index: usize,
    gates: &[Gate],
    require: &[String],
    subject: &str,
) -> Result<Rule> {
    let id = match &raw.id {
        Some(id) => ctx.id("rule", id)?.0,
        None => format!("rule-{}", index + 1),
    };
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
    let when = raw
        .when
        .iter()
        .map(|c| check_condition(ctx, c, subject))
        .collect::<Result<Vec<_>>>()?;
    let at_most = raw
        .at_most
        .as_ref()
        .map(|a| check_rate(ctx, a, subject))
        .transpose()?;
    let Some(action_text) = &raw.action else {
        return Err(ctx.err(
            &raw.path.span(),
            subject,
            "action",
            format!("a rule needs an action (\"allow\", \"require\" or \"deny\"); rules without one are the old form, which said what needs approval. {NEW_FORM}"),
        ));
    };
    let gate_ids: Vec<String> = gates.iter().map(|g| g.id.clone()).collect();
    let action = match action_text.get_ref().as_str() {
        "allow" | "deny" if raw.gates.is_some() => {
            let span = raw.gates.as_ref().map_or(action_text.span(), |g| g.span());
            return Err(ctx.err(
                &span,
                subject,
                "gates",
                "gates go with action = \"require\" only",
            ));
        }
        "allow" => Action::Allow,
        "deny" => Action::Deny,
        "require" => {
            let ids = match &raw.gates {
                None => require.to_vec(),
                Some(list) => {
                    let ids =
                        known_names(ctx, list.get_ref(), &gate_ids, "gate", subject, "gates")?;
                    if ids.is_empty() {
                        return Err(ctx.err(
                            &list.span(),
                            subject,
                            "gates",
                            "name at least one gate",
                        ));
                    }
                    satisfiable(ctx, gates, &ids, &list.span(), subject, "gates")?;
                    ids
                }
            };
            if ids.is_empty() {
                return Err(ctx.err(
                    &action_text.span(),
                    subject,
                    "action",
                    "the policy has no gates to require",
                ));
            }
            Action::Require(ids)
        }
        other => {
            return Err(ctx.err(
                &action_text.span(),
                subject,
                "action",
                format!("unknown action {other:?}: use \"allow\", \"require\" or \"deny\""),
            ))
        }
    };
    Ok(Rule {
        id,
        methods,
        path,
        when,
        at_most,
        action,
    })
}

fn check_rate(ctx: &Ctx, raw: &Spanned<String>, subject: &str) -> Result<RateLimit> {
    let fail = |message: String| ctx.err(&raw.span(), subject, "at_most", message);
    let (count, per) = raw.get_ref().split_once('/').ok_or_else(|| {
        fail(format!(
            "{:?}: expected a count and a period such as \"20/1h\"",
            raw.get_ref()
        ))
    })?;
    let count = count
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|n| *n >= 1)
        .ok_or_else(|| fail(format!("{count:?} is not a positive whole number")))?;
    let per = crate::config::parse_duration(per.trim()).map_err(fail)?;
    if per < Duration::from_secs(1) || per > MAX_WINDOW * 12 {
        return Err(fail("the period must be between 1s and 360d".to_string()));
    }
    Ok(RateLimit { count, per })
}

fn check_condition(ctx: &Ctx, raw: &Spanned<RawCondition>, subject: &str) -> Result<Condition> {
    let span = raw.span();
    let c = raw.get_ref();
    let fail = |message: String| ctx.err(&span, subject, "when", message);
    if !(c.pointer.is_empty() || c.pointer.starts_with('/')) {
        return Err(fail(format!(
            "pointer {:?} must be empty or start with '/' (RFC 6901)",
            c.pointer
        )));
    }
    let literal = |value: &toml::Value| -> Result<Literal> {
        match value {
            toml::Value::String(s) => Ok(Literal::String(s.clone())),
            toml::Value::Integer(i) => Ok(Literal::Number(
                Decimal::parse(&i.to_string()).expect("an integer is a number"),
            )),
            toml::Value::Float(f) => Decimal::from_f64(*f)
                .map(Literal::Number)
                .ok_or_else(|| fail(format!("{f} is not a finite number"))),
            toml::Value::Boolean(b) => Ok(Literal::Bool(*b)),
            other => Err(fail(format!("{other} is not a string, number or boolean"))),
        }
    };
    let number = |value: &toml::Value| -> Result<Decimal> {
        match literal(value)? {
            Literal::Number(n) => Ok(n),
            Literal::String(s) => Decimal::parse(&s).ok_or_else(|| {
                fail(format!(
                    "{s:?} is not a number (JSON syntax, e.g. \"50.00\")"
                ))
            }),
            Literal::Bool(b) => Err(fail(format!("{b} is not a number"))),
        }
    };
    let mut tests = Vec::new();
    if let Some(v) = &c.eq {
        tests.push(Test::Eq(literal(v)?));
    }
    if let Some(v) = &c.ne {
        tests.push(Test::Ne(literal(v)?));
    }
    if let Some(v) = &c.lt {
        tests.push(Test::Lt(number(v)?));
    }
    if let Some(v) = &c.le {
        tests.push(Test::Le(number(v)?));
    }
    if let Some(v) = &c.gt {
        tests.push(Test::Gt(number(v)?));
    }
    if let Some(v) = &c.ge {
        tests.push(Test::Ge(number(v)?));
    }
    if let Some(list) = &c.in_ {
        if list.is_empty() {
            return Err(fail("`in` needs at least one value".to_string()));
        }
        tests.push(Test::In(
            list.iter().map(literal).collect::<Result<Vec<_>>>()?,
        ));
    }
    if let Some(pattern) = &c.matches {
        let regex = regex::RegexBuilder::new(&format!("^(?:{pattern})$"))
            .size_limit(REGEX_SIZE_LIMIT)
            .build()
            .map_err(|e| fail(format!("`matches` is not a regular expression: {e}")))?;
        tests.push(Test::Matches(regex));
    }
    match tests.len() {
        1 => Ok(Condition {
            pointer: c.pointer.clone(),
            test: tests.remove(0),
        }),
        0 => Err(fail(
            "a condition needs one test: eq, ne, lt, le, gt, ge, in or matches".to_string(),
        )),
        _ => Err(fail(
            "a condition has exactly one test; write several conditions".to_string(),
        )),
    }
}
