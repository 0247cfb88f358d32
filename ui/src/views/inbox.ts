// The inbox: pending requests across services, newest first, with time left.
import { h, revealed } from "../dom";
import type { InboxView, InboxRow } from "../types";
import { countdown } from "./common";

/** Rows drawn at first; more on request (a thousand pending rows stay cheap). */
export const PAGE = 200;

export function inboxView(
  inbox: InboxView,
  paired: boolean,
  open: (row: InboxRow) => void,
  limit: number,
  showMore: () => void,
): HTMLElement {
  const root = h("section", { class: "inbox", "data-testid": "inbox" });
  root.appendChild(
    h("h1", {}, "Inbox ", h("span", { class: "count", "data-testid": "inbox-count" }, String(inbox.count))),
  );
  if (inbox.rows.length === 0) {
    root.appendChild(
      h(
        "p",
        { class: "empty" },
        paired
          ? "No request is waiting for you."
          : "This Wallet is not paired yet. Open a countersign://pair link from your administrator, or paste it above.",
      ),
    );
    return root;
  }
  const list = h("ul", { class: "rows" });
  for (const row of inbox.rows.slice(0, limit)) list.appendChild(inboxRow(row, open));
  root.appendChild(list);
  const hidden = inbox.rows.length - limit;
  if (hidden > 0) {
    root.appendChild(
      h("button", { class: "more", "data-testid": "inbox-more", onclick: showMore }, `Show ${Math.min(hidden, PAGE)} more of ${hidden}`),
    );
  }
  return root;
}

function inboxRow(row: InboxRow, open: (row: InboxRow) => void): HTMLElement {
  const warn = row.reason.warning || row.app.warning || row.url.warning;
  return h(
    "li",
    {},
    h(
      "button",
      {
        class: `row${warn ? " has-warning" : ""}`,
        "data-testid": "inbox-row",
        "data-approval-id": row.approval_id,
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
        h("span", { class: "server" }, row.server),
      ),
      warn ? h("div", { class: "row-warning" }, "Contains hidden characters") : null,
    ),
  );
}
