// The review screen: reason first and large, then everything the signature covers, the digest
// fingerprint, the policy (deciding rule, gates, who approved and who is still needed) and
// decisions, and approve / deny. Only here can a request be approved.
import { append, h, revealed, text } from "../dom";
import { formatSize, formatTime } from "../time";
import type { BodyPage, BodyView, GateView, PolicyLineView, Revealed, ReviewView } from "../types";
import { countdown, statusBadge, warningBanner } from "./common";
import { pagedBody } from "./pagedbody";

export interface ReviewActions {
  decide: (verdict: "approve" | "deny", comment: string | null) => void;
  /** Asks the Wallet for one page of the body (it records every page it hands out). */
  bodyPage: (index: number) => Promise<BodyPage>;
  /** Tells the Wallet the body was seen to the end (it signs no approval before). */
  bodySeen: () => Promise<void>;
  back: () => void;
}

export function reviewView(v: ReviewView, actions: ReviewActions, busy: boolean): HTMLElement {
  const root = h("section", { class: "review", "data-testid": "review" });
  root.appendChild(h("button", { class: "link back", onclick: actions.back }, "← Inbox"));
  if (v.warning) {
    root.appendChild(
      warningBanner(
        "This request contains hidden or direction-changing characters, shown as ⟨U+…⟩. Text may not say what it seems to say.",
      ),
    );
  }
  const news = whatIsNewBlock(v);
  if (news) root.appendChild(news);
  root.appendChild(h("h1", { class: "reason", "data-testid": "reason" }, revealed(v.reason)));
  root.appendChild(
    h(
      "div",
      { class: "review-status" },
      statusBadge(v.status),
      v.status === "pending" ? countdown(v.seconds_left, "expiry") : null,
      h("span", { class: "quorum", "data-testid": "quorum" }, quorumText(v)),
    ),
  );

  // After a decision, the outcome is what the person looks for first.
  if (v.outcome) root.appendChild(outcomeBlock(v));
  root.appendChild(policyBlock(v));

  const facts = h("dl", { class: "facts" });
  const fact = (label: string, value: Node) => {
    facts.appendChild(h("dt", {}, label));
    facts.appendChild(h("dd", {}, value));
  };
  fact("App", revealed(v.app));
  fact("Grant", revealed(v.grant));
  fact("Policy", revealed(v.policy.policy_id));
  fact("Method", revealed(v.method, "method"));
  fact("URL", revealed(v.url, "url"));
  fact("Service", h("span", {}, v.server));
  if (v.deciding_as) fact("Deciding as", h("span", { "data-testid": "deciding-as" }, revealed(v.deciding_as, "name")));
  fact("Requested", h("span", {}, formatTime(v.created_at)));
  fact("Expires", h("span", {}, formatTime(v.expires_at)));
  fact(
    "Digest",
    h(
      "span",
      { class: "digest" },
      h("strong", { "data-testid": "fingerprint" }, v.fingerprint),
      h("code", { class: "digest-full", title: "request digest (SHA-256 of the statement)" }, v.digest),
    ),
  );
  root.appendChild(facts);

  root.appendChild(h("h2", {}, "Headers"));
  if (v.headers.length === 0) root.appendChild(h("p", { class: "muted" }, "No extra headers."));
  else {
    const table = h("table", { class: "headers" });
    for (const hd of v.headers) table.appendChild(h("tr", {}, h("th", {}, revealed(hd.name)), h("td", {}, revealed(hd.value))));
    root.appendChild(table);
  }

  // The body, paged; Approve waits until its end was seen (and the Wallet recorded it).
  let seen = v.body_gate.seen;
  let reporting = false;
  let seenError: string | null = null;
  let pages = { seen: 0, of: 1 };
  let form: DecisionForm | null = null;
  const gateState = (): { ok: boolean; why: string } => {
    if (!v.body_gate.shown_whole) return { ok: false, why: v.body_gate.why_not ?? "the body cannot be shown whole, so it cannot be approved" };
    if (seenError) return { ok: false, why: `the Wallet did not record the body as seen: ${seenError}` };
    if (!seen) return { ok: false, why: `read the whole body first: ${pages.seen} of ${pages.of} page${pages.of === 1 ? "" : "s"} seen` };
    return { ok: true, why: "" };
  };
  const refresh = () => form?.setGate(gateState());
  root.appendChild(h("h2", {}, "Body"));
  const bodyBox = bodyBlock(v.body, "body", null);
  const paged = pagedBody(v.body, v.body_page, actions.bodyPage, (seenPages, of, atEnd) => {
    pages = { seen: seenPages, of };
    if (atEnd && !seen && !reporting && v.body_gate.shown_whole && v.can_decide) {
      reporting = true;
      actions
        .bodySeen()
        .then(() => {
          seen = true;
          seenError = null;
        })
        .catch((e: unknown) => {
          seenError = typeof e === "object" && e !== null && "message" in e ? String((e as { message: unknown }).message) : String(e);
        })
        .finally(() => {
          reporting = false;
          refresh();
        });
    }
    refresh();
  });
  bodyBox.appendChild(paged.element);
  root.appendChild(bodyBox);

  if (v.decisions.length > 0) {
    root.appendChild(h("h2", {}, "Decisions"));
    const list = h("ul", { class: "decisions", "data-testid": "decisions" });
    for (const d of v.decisions) {
      list.appendChild(
        h(
          "li",
          {},
          h("strong", {}, d.decision === "approve" ? "Approved" : "Denied"),
          " by ",
          revealed(d.approver_id),
          ` at ${formatTime(d.decided_at)}`,
          d.comment ? h("div", { class: "comment" }, "“", revealed(d.comment), "”") : null,
        ),
      );
    }
    root.appendChild(list);
  }

  if (v.can_decide) {
    form = decisionForm(actions, busy);
    form.setGate(gateState());
    root.appendChild(form.element);
  }
  return root;
}

/** What is new compared with approved requests of this kind: warnings at the top. */
function whatIsNewBlock(v: ReviewView): HTMLElement | null {
  if (v.what_is_new.length === 0 && !v.what_is_new_note) return null;
  const box = h("section", { class: "what-is-new", "data-testid": "what-is-new" });
  if (v.what_is_new.length > 0) {
    box.appendChild(h("h2", {}, "What is new"));
    const list = h("ul", { class: "novelties", role: "alert" });
    for (const n of v.what_is_new) list.appendChild(h("li", { class: "warning-banner novelty", "data-testid": "novelty" }, revealed(n)));
    box.appendChild(list);
  }
  if (v.what_is_new_note) box.appendChild(h("p", { class: "muted", "data-testid": "what-is-new-note" }, v.what_is_new_note));
  return box;
}

function quorumText(v: ReviewView): string {
  const q = v.quorum;
  const denied = q.denials > 0 ? `, ${q.denials} denial` : "";
  return `${q.approvals} of ${q.needed} approval${q.needed === 1 ? "" : "s"}${denied}`;
}

/** Names from the service, each revealed, separated by commas. */
function nameList(names: Revealed[]): HTMLElement {
  const span = h("span", { class: "names" });
  names.forEach((n, i) => {
    if (i > 0) span.appendChild(text(", "));
    span.appendChild(revealed(n, "name"));
  });
  return span;
}

function policyBlock(v: ReviewView): HTMLElement {
  const box = h("section", { class: "policy", "data-testid": "policy" }, h("h2", {}, "Policy"));
  if (v.policy.cannot_complete) {
    box.appendChild(
      h(
        "p",
        { class: "policy-blocked", role: "alert", "data-testid": "cannot-complete" },
        "The people eligible now cannot fill every gate (one person counts in one gate only) — it cannot be approved.",
      ),
    );
  }
  const list = h("ul", { class: "policies" });
  for (const p of v.policy.policies) list.appendChild(policyLine(p));
  box.appendChild(list);
  if (v.policy.legacy) {
    box.appendChild(
      h("p", { class: "muted", "data-testid": "policy-legacy" }, `This service does not report gates: ${quorumText(v)}.`),
    );
  }
  return box;
}

function policyLine(p: PolicyLineView): HTMLElement {
  const rule =
    p.rule.kind === "rule"
      ? h("span", {}, "rule ", revealed(p.rule.id, "rule"), p.action ? h("span", { class: "action" }, " (", revealed(p.action), ")") : null)
      : p.rule.kind === "default"
        ? h("span", {}, "no rule matched: the policy's default requirement")
        : h("span", { class: "muted" }, "which rule matched is not known (older service)");
  const li = h(
    "li",
    { "data-testid": "policy-line" },
    h("div", { class: "policy-head" }, h("strong", {}, revealed(p.policy, "policy-id")), " — ", rule),
  );
  if (p.gates.length > 0) {
    const gates = h("ul", { class: "gates" });
    for (const g of p.gates) gates.appendChild(gateLine(g));
    li.appendChild(gates);
  }
  return li;
}

function gateLine(g: GateView): HTMLElement {
  const li = h(
    "li",
    { class: `gate gate-${g.state.state}`, "data-testid": "gate" },
    h("strong", { class: "gate-name" }, revealed(g.gate)),
    " ",
    h("span", { class: "gate-count", "data-testid": "gate-count" }, `${g.approvals} of ${g.quorum}`),
  );
  if (g.approved_by.length > 0) li.appendChild(h("span", { class: "gate-by" }, " · approved by ", nameList(g.approved_by)));
  const s = g.state;
  let need: HTMLElement | null = null;
  switch (s.state) {
    case "filled":
      need = h("span", { class: "gate-done" }, " · filled");
      break;
    case "waiting":
      need = s.any
        ? h("span", {}, ` · still needed: any ${s.missing} of: `, nameList(s.from))
        : h("span", {}, " · still needed: ", nameList(s.from));
      break;
    case "unfillable":
      need =
        s.from.length === 0
          ? h("span", { class: "gate-blocked" }, " · nobody eligible now — it cannot be approved")
          : h("span", { class: "gate-blocked" }, " · only ", nameList(s.from), ` eligible now for ${s.missing} more — it cannot be approved`);
      break;
    case "closed":
      need = h("span", { class: "muted" }, " · not filled");
      break;
  }
  li.appendChild(need);
  return li;
}

/** What the description of a body needs (a request body's head, or a provider's body). */
type BodyMeta = Pick<BodyView, "kind" | "size" | "content_type" | "truncated" | "note" | "duplicates">;

/** The body's description, note and duplicate warning; with `content`, the body itself. */
export function bodyBlock(b: BodyMeta, testid: string, content: BodyView | null): HTMLElement {
  const kind = { empty: "no body", json: "JSON", form: "form", text: "text", binary: "binary (hex)" }[b.kind];
  const wrap = h("div", { class: "body", "data-testid": testid, "data-kind": b.kind });
  wrap.appendChild(
    h(
      "div",
      { class: "body-meta" },
      `${kind} · ${formatSize(b.size)}`,
      b.content_type ? h("span", {}, " · content-type ", revealed(b.content_type)) : " · no content-type",
      b.truncated ? " · showing the start only" : null,
    ),
  );
  if (b.note) wrap.appendChild(h("p", { class: "body-note", role: "note", "data-testid": `${testid}-note` }, b.note));
  if (b.duplicates.length > 0) {
    const names = h("span", { class: "names" });
    b.duplicates.forEach((d, i) => {
      if (i > 0) names.appendChild(text(", "));
      names.appendChild(text("“"));
      names.appendChild(revealed(d, "name"));
      names.appendChild(text("”"));
    });
    wrap.appendChild(
      h(
        "p",
        { class: "warning-banner body-duplicates", role: "alert", "data-testid": `${testid}-duplicates` },
        "Duplicate names: ",
        names,
        " — the provider may read the last one.",
      ),
    );
  }
  if (!content) return wrap;
  if (content.kind === "json") wrap.appendChild(jsonBlock(content));
  else if (content.kind === "form") wrap.appendChild(formTable(content));
  else if (content.kind !== "empty") wrap.appendChild(h("pre", { class: `body-text ${content.kind}` }, revealed(content.display)));
  return wrap;
}

/** JSON as written, one line per token; lines whose member name is duplicated are marked. */
function jsonBlock(b: BodyView): HTMLElement {
  const pre = h("pre", { class: "body-text json" });
  for (const l of b.json) {
    const line = h("span", { class: l.duplicate ? "json-line duplicate" : "json-line" }, "  ".repeat(l.depth));
    if (l.key) append(line, revealed(l.key, "json-key"), ": ");
    append(line, revealed(l.token, "json-token"), l.comma ? "," : null);
    if (l.duplicate) line.appendChild(h("span", { class: "dup-mark", title: "the provider may read the last one" }, "  ← duplicate name"));
    pre.appendChild(line);
    pre.appendChild(text("\n"));
  }
  return pre;
}

/** A form as a name / value table, decoded; what was written is shown when it differs. */
function formTable(b: BodyView): HTMLElement {
  if (b.form.length === 0) return h("p", { class: "muted" }, "No fields.");
  const table = h("table", { class: "form-fields" }, h("tr", {}, h("th", {}, "Name"), h("th", {}, "Value"), h("th", {}, "As written")));
  for (const f of b.form) {
    table.appendChild(
      h(
        "tr",
        { class: f.duplicate ? "duplicate" : "" },
        h("td", {}, revealed(f.name, "form-name"), f.duplicate ? h("span", { class: "dup-mark" }, " (duplicate)") : null),
        h("td", {}, f.value ? revealed(f.value, "form-value") : h("span", { class: "muted" }, "(no value)")),
        h("td", { class: "muted" }, f.raw ? revealed(f.raw) : ""),
      ),
    );
  }
  return table;
}

function outcomeBlock(v: ReviewView): HTMLElement {
  const o = v.outcome!;
  const box = h("section", { class: `outcome status-${o.status}`, "data-testid": "outcome" });
  box.appendChild(h("h2", {}, "Outcome"));
  const line = {
    pending: "Waiting for more approvals.",
    approved: "Approved; the call is about to be sent.",
    executing: "Approved; the call is being sent.",
    succeeded: "Executed.",
    execution_failed: "Approved, but the call failed.",
    denied: "Denied; the call was not sent.",
    expired: "Expired; the call was not sent.",
    cancelled: "Cancelled by the app; the call was not sent.",
  }[o.status];
  box.appendChild(h("p", { "data-testid": "outcome-text" }, line));
  if (o.provider_status !== null) box.appendChild(h("p", {}, "Provider status: ", h("strong", { "data-testid": "provider-status" }, String(o.provider_status))));
  if (o.failure) box.appendChild(h("p", { class: "failure" }, revealed(o.failure)));
  if (o.provider_body) box.appendChild(bodyBlock(o.provider_body, "provider-body", o.provider_body));
  return box;
}

interface DecisionForm {
  element: HTMLElement;
  /** Enables Approve, or disables it with the reason shown. */
  setGate: (g: { ok: boolean; why: string }) => void;
}

function decisionForm(actions: ReviewActions, busy: boolean): DecisionForm {
  const comment = h("textarea", {
    id: "comment",
    rows: "2",
    maxlength: "2000",
    placeholder: "Comment (optional, sent with a denial or approval)",
    "data-testid": "comment",
  }) as HTMLTextAreaElement;
  const value = () => (comment.value.trim() === "" ? null : comment.value);
  let open = false;
  const approve = h(
    "button",
    { class: "approve", disabled: true, "data-testid": "approve", onclick: () => { if (open) actions.decide("approve", value()); } },
    "Approve",
  ) as HTMLButtonElement;
  const why = h("p", { class: "approve-gate", role: "status", "aria-live": "polite", "data-testid": "approve-gate" });
  const element = h(
    "div",
    { class: "decide" },
    h("label", { for: "comment" }, "Comment"),
    comment,
    why,
    h(
      "div",
      { class: "buttons" },
      h("button", { class: "deny", disabled: busy, "data-testid": "deny", onclick: () => actions.decide("deny", value()) }, "Deny"),
      approve,
    ),
  );
  return {
    element,
    setGate: (g) => {
      open = g.ok && !busy;
      approve.disabled = !open;
      why.textContent = g.ok ? "The whole body was seen." : `Approve is disabled: ${g.why}. Deny is always available.`;
      why.classList.toggle("blocked", !g.ok);
    },
  };
}
