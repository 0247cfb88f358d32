// The inbox: pending requests across services, newest first, with time left. Drawn virtually
// (see virtuallist.ts): a flood of 10,000 requests costs what twenty do, and every one of
// them stays reachable by scrolling.
import { h, revealed } from "../dom";
import { markOnce } from "../perf";
import type { InboxPage, InboxRow } from "../types";
import { countdown } from "./common";
import { virtualList, type VirtualList } from "./virtuallist";

/** The height of one inbox row, gap included (style.css: `.inbox .vrow`). */
export const INBOX_ROW = 100;

export interface InboxScreen {
  element: HTMLElement;
  /** The list, to refresh when the inbox changed (absent when empty). */
  list: VirtualList | null;
}

export function inboxView(
  first: InboxPage,
  paired: boolean,
  open: (row: InboxRow) => void,
  fetch: (offset: number, limit: number) => Promise<InboxPage>,
  onCount: (count: number) => void,
): InboxScreen {
  const count = h("span", { class: "count", "data-testid": "inbox-count" }, String(first.count));
  // While a service's pending list is still arriving (start-up, reconnect) the inbox says so:
  // more rows may come, and rows decided meanwhile leave once the list is complete.
  const syncing = h(
    "span",
    { class: "syncing", "data-testid": "inbox-syncing", title: "the pending list is still being fetched" },
    "syncing…",
  );
  const setSyncing = (on: boolean) => {
    syncing.hidden = !on;
  };
  setSyncing(first.syncing);
  const root = h("section", { class: "inbox", "data-testid": "inbox" }, h("h1", {}, "Inbox ", count, " ", syncing));
  if (first.count === 0) {
    root.appendChild(
      h(
        "p",
        { class: "empty" },
        paired
          ? "No request is waiting for you."
          : "This Wallet is not paired yet. Open a countersign://pair link from your administrator, or paste it above.",
      ),
    );
    return { element: root, list: null };
  }
  const list = virtualList<InboxRow>({
    rowHeight: INBOX_ROW,
    initial: first,
    fetch: (offset, limit) =>
      fetch(offset, limit).then((page) => {
        setSyncing(page.syncing);
        return page;
      }),
    render: (row) => inboxRow(row, open),
    key: (row) => `${row.pairing} ${row.approval_id} ${row.progress?.approvals ?? ""}`,
    onCount: (n) => {
      count.textContent = String(n);
      onCount(n);
    },
    testid: "inbox-list",
    onFirstRow: () => markOnce("wallet-inbox-first-row"),
  });
  root.appendChild(list.element);
  return { element: root, list };
}

function inboxRow(row: InboxRow, open: (row: InboxRow) => void): HTMLElement {
  const warn = row.reason.warning || row.app.warning || row.url.warning;
  return h(
    "button",
    {
      class: `row${warn ? " has-warning" : ""}`,
      "data-testid": "inbox-row",
      "data-approval-id": row.approval_id,
      "data-pairing": row.pairing,
      title: row.reason.text,
      onclick: () => open(row),
    },
    h("div", { class: "row-reason", "data-testid": "row-reason" }, revealed(row.reason)),
    h(
      "div",
      { class: "row-meta" },
      revealed(row.app, "app"),
      " · ",
      revealed(row.grant, "grant"),
      " · ",
      revealed(row.method, "method"),
      " ",
      revealed(row.url, "url"),
    ),
    h(
      "div",
      { class: "row-side" },
      countdown(row.seconds_left),
      row.progress
        ? h(
            "span",
            { class: "row-progress", "data-testid": "row-progress", title: "approvals counted of approvals needed" },
            `${row.progress.approvals} of ${row.progress.needed} approval${row.progress.needed === 1 ? "" : "s"}`,
          )
        : null,
      warn ? h("span", { class: "row-warning" }, "Contains hidden characters") : null,
      h("span", { class: "server", "data-testid": "row-approver" }, "for ", revealed(row.approver, "name"), ` · ${row.server}`),
    ),
  );
}
