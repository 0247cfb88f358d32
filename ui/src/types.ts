// Shapes of what the Wallet (Rust) sends; names match the Rust serde output.

export type HiddenKind = "bidi" | "invisible" | "space" | "control";

export type Segment =
  | { type: "text"; text: string }
  | { type: "hidden"; marker: string; kind: HiddenKind };

/** Untrusted text with hidden characters already made visible by Rust. */
export interface Revealed {
  text: string;
  segments: Segment[];
  warning: boolean;
  kinds: HiddenKind[];
}

export type ApprovalStatus =
  | "pending"
  | "approved"
  | "executing"
  | "succeeded"
  | "execution_failed"
  | "denied"
  | "expired"
  | "cancelled";

export interface InboxRow {
  server: string;
  approval_id: string;
  reason: Revealed;
  app: Revealed;
  grant: Revealed;
  method: Revealed;
  url: Revealed;
  created_at: string;
  expires_at: string;
  seconds_left: number;
  /** Approvals counted and needed ("2 of 3"); null from a service older than gates. */
  progress: Progress | null;
}

export interface Progress {
  approvals: number;
  needed: number;
}

export interface InboxView {
  rows: InboxRow[];
  count: number;
}

export interface HistoryRow extends InboxRow {
  status: ApprovalStatus;
}

/** One line of a JSON body, every token as written (Rust: countersign_core::body). */
export interface JsonLine {
  depth: number;
  key: Revealed | null;
  token: Revealed;
  comma: boolean;
  /** The member name occurs more than once in its object. */
  duplicate: boolean;
}

/** One field of a form body, percent-decoded; `raw` is what was written when that differs. */
export interface FormField {
  name: Revealed;
  value: Revealed | null;
  raw: Revealed | null;
  duplicate: boolean;
}

/** The body, shown as its content-type says (JSON, form, text, or hex). */
export interface BodyView {
  kind: "empty" | "json" | "form" | "text" | "binary";
  size: number;
  content_type: Revealed | null;
  display: Revealed;
  truncated: boolean;
  /** Why it is not shown as its content type says, e.g. "not valid JSON: …". */
  note: string | null;
  json: JsonLine[];
  form: FormField[];
  /** Names that occur more than once: the provider may read the last one. */
  duplicates: Revealed[];
}

/** Which rule decided in a policy. */
export type RuleView = { kind: "rule"; id: Revealed } | { kind: "default" } | { kind: "unknown" };

/** What a gate is waiting for. */
export type GateState =
  | { state: "filled" }
  | { state: "waiting"; missing: number; from: Revealed[]; any: boolean }
  | { state: "unfillable"; missing: number; from: Revealed[] }
  | { state: "closed" };

export interface GateView {
  gate: Revealed;
  quorum: number;
  approvals: number;
  approved_by: Revealed[];
  state: GateState;
}

export interface PolicyLineView {
  policy: Revealed;
  rule: RuleView;
  action: Revealed | null;
  gates: GateView[];
}

export interface PolicyView {
  policy_id: Revealed;
  policies: PolicyLineView[];
  legacy: boolean;
  cannot_complete: boolean;
}

export interface ReviewView {
  server: string;
  approval_id: string;
  reason: Revealed;
  app: Revealed;
  grant: Revealed;
  method: Revealed;
  url: Revealed;
  headers: { name: Revealed; value: Revealed }[];
  body: BodyView;
  /** Approve needs the body shown whole and seen to the end (the Wallet checks it too). */
  body_gate: { shown_whole: boolean; why_not: string | null; seen: boolean };
  /** What is new compared with approved requests of this kind, in words (warnings). */
  what_is_new: Revealed[];
  /** Why that comparison could not be made, if it failed. */
  what_is_new_note: string | null;
  digest: string;
  fingerprint: string;
  created_at: string;
  expires_at: string;
  seconds_left: number;
  status: ApprovalStatus;
  quorum: { needed: number; approvals: number; denials: number };
  policy: PolicyView;
  decisions: {
    approver_id: Revealed;
    decision: "approve" | "deny";
    comment: Revealed | null;
    decided_at: string;
  }[];
  can_decide: boolean;
  outcome: {
    status: ApprovalStatus;
    provider_status: number | null;
    provider_body: BodyView | null;
    failure: Revealed | null;
  } | null;
  warning: boolean;
}

export type SyncStatus =
  | { state: "connecting" }
  | { state: "live" }
  | { state: "retrying"; why: string; retry_in_ms: number }
  | { state: "failed"; why: string };

export interface PairingView {
  server: string;
  service_id: Revealed;
  approver_id: Revealed;
  approver_name: Revealed;
  key_id: Revealed;
  status: SyncStatus;
}

export interface PairingPreview {
  server: string;
  service_id: Revealed;
  approver_id: Revealed;
  approver_name: Revealed;
  expires_at: string;
  replaces_existing: boolean;
}

export type LinkAction =
  | { action: "confirm_pairing"; server: string; code: string }
  | { action: "open_approval"; server: string; approval_id: string };

export type WalletUpdate =
  | { type: "inbox_changed"; count: number }
  | { type: "approval_changed"; server: string; approval_id: string; status: ApprovalStatus }
  | { type: "connection"; server: string; status: SyncStatus }
  | { type: "focus"; server: string; approval_id: string };

/** Every command error: a stable code and a message for people. */
export interface WalletError {
  code: string;
  message: string;
}

export function isWalletError(e: unknown): e is WalletError {
  return (
    typeof e === "object" &&
    e !== null &&
    typeof (e as WalletError).code === "string" &&
    typeof (e as WalletError).message === "string"
  );
}
