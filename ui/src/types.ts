// Shapes of what the Wallet (Rust) sends. The declarations are generated from the Rust types
// with ts-rs into ./bindings (do not edit those; after changing a Rust view type run
// `cargo test -p countersign-wallet export_bindings -- --ignored`). This file re-exports them
// under the names the view uses.

import type { BodyView as BodyViewOf } from "./bindings/BodyView";
import type { FormField as FormFieldOf } from "./bindings/FormField";
import type { JsonLine as JsonLineOf } from "./bindings/JsonLine";
import type { Revealed } from "./bindings/Revealed";
import type { WalletError } from "./bindings/WalletError";

export type { ApprovalStatus } from "./bindings/ApprovalStatus";
export type { BodyGate } from "./bindings/BodyGate";
export type { BodyHead } from "./bindings/BodyHead";
export type { BodyPage } from "./bindings/BodyPage";
export type { BodyKind } from "./bindings/BodyKind";
export type { DecisionView } from "./bindings/DecisionView";
export type { GateStateView as GateState } from "./bindings/GateStateView";
export type { GateView } from "./bindings/GateView";
export type { HeaderView } from "./bindings/HeaderView";
export type { HiddenKind } from "./bindings/HiddenKind";
export type { HistoryPage } from "./bindings/HistoryPage";
export type { HistoryRow } from "./bindings/HistoryRow";
export type { InboxRow } from "./bindings/InboxRow";
export type { InboxPage } from "./bindings/InboxPage";
export type { LinkAction } from "./bindings/LinkAction";
export type { OutcomeView } from "./bindings/OutcomeView";
export type { PageLines } from "./bindings/PageLines";
export type { PairingPreviewView as PairingPreview } from "./bindings/PairingPreviewView";
export type { PairingNotifications } from "./bindings/PairingNotifications";
export type { PairingView } from "./bindings/PairingView";
export type { PolicyLineView } from "./bindings/PolicyLineView";
export type { PolicyView } from "./bindings/PolicyView";
export type { Progress } from "./bindings/Progress";
export type { QuietHoursView } from "./bindings/QuietHoursView";
export type { QuorumView } from "./bindings/QuorumView";
export type { ReviewView } from "./bindings/ReviewView";
export type { RuleView } from "./bindings/RuleView";
export type { Segment } from "./bindings/Segment";
export type { SettingsView } from "./bindings/SettingsView";
export type { SyncStatus } from "./bindings/SyncStatus";
export type { WalletUpdate } from "./bindings/WalletUpdate";
export type { Revealed, WalletError };

/** One line of a JSON body, every token as written (Rust: countersign_core::body). */
export type JsonLine = JsonLineOf<Revealed>;
/** One field of a form body, percent-decoded; `raw` is what was written when that differs. */
export type FormField = FormFieldOf<Revealed>;
/** The body, shown as its content-type says (JSON, form, text, or hex). */
export type BodyView = BodyViewOf<Revealed>;

export function isWalletError(e: unknown): e is WalletError {
  return (
    typeof e === "object" &&
    e !== null &&
    typeof (e as WalletError).code === "string" &&
    typeof (e as WalletError).message === "string"
  );
}
