// Pieces shared by the views.
import { h } from "../dom";
import { deadlineFrom, formatLeft } from "../time";
import type { ApprovalStatus } from "../types";

export function countdown(secondsLeft: number, testid = "time-left"): HTMLElement {
  const deadline = deadlineFrom(secondsLeft);
  return h(
    "span",
    { class: "time-left", "data-deadline": String(deadline), "data-testid": testid },
    formatLeft(deadline - Date.now()),
  );
}

const STATUS_LABELS: Record<ApprovalStatus, string> = {
  pending: "Pending",
  approved: "Approved",
  executing: "Executing",
  succeeded: "Executed",
  execution_failed: "Execution failed",
  denied: "Denied",
  expired: "Expired",
  cancelled: "Cancelled",
};

export function statusBadge(status: ApprovalStatus): HTMLElement {
  return h("span", { class: `badge status-${status}`, "data-testid": "status" }, STATUS_LABELS[status]);
}

export function warningBanner(message: string): HTMLElement {
  return h("div", { class: "warning-banner", role: "alert", "data-testid": "hidden-warning" }, message);
}
