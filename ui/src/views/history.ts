// History: finished requests, searchable (the search runs in Rust over all paired services and
// is kept there; the view asks for the rows it shows, drawn virtually like the inbox).
import { h, revealed } from "../dom";
import { formatTime } from "../time";
import type { HistoryPage, HistoryRow } from "../types";
import { statusBadge } from "./common";
import { virtualList, type VirtualList } from "./virtuallist";

/** The height of one history row, gap included (style.css: `.history .vrow`). */
export const HISTORY_ROW = 92;

export interface HistoryScreen {
  element: HTMLElement;
  list: VirtualList | null;
}

export function historyView(
  first: HistoryPage,
  query: string,
  search: (q: string) => void,
  open: (row: HistoryRow) => void,
  fetch: (offset: number, limit: number) => Promise<HistoryPage>,
): HistoryScreen {
  const input = h("input", {
    type: "search",
    placeholder: "Search reason, app, grant, URL, status…",
    value: query,
    "data-testid": "history-search",
    "aria-label": "Search history",
  }) as HTMLInputElement;
  let timer: number | undefined;
  input.addEventListener("input", () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(() => search(input.value), 250);
  });
  const total = h("span", { class: "count", "data-testid": "history-count" }, String(first.count));
  const root = h("section", { class: "history", "data-testid": "history" }, h("h1", {}, "History ", total), input);
  if (first.count === 0) {
    root.appendChild(h("p", { class: "empty" }, query ? "Nothing matches." : "No finished requests yet."));
    return { element: root, list: null };
  }
  const list = virtualList<HistoryRow>({
    rowHeight: HISTORY_ROW,
    initial: first,
    fetch,
    render: (row) => historyRow(row, open),
    key: (row) => `${row.pairing} ${row.approval_id} ${row.status}`,
    onCount: (n) => {
      total.textContent = String(n);
    },
    testid: "history-list",
  });
  root.appendChild(list.element);
  return { element: root, list };
}

function historyRow(row: HistoryRow, open: (row: HistoryRow) => void): HTMLElement {
  return h(
    "button",
    { class: "row", "data-testid": "history-row", "data-approval-id": row.approval_id, title: row.reason.text, onclick: () => open(row) },
    h("div", { class: "row-reason" }, revealed(row.reason)),
    h("div", { class: "row-meta" }, revealed(row.app), " · ", revealed(row.method), " ", revealed(row.url)),
    h("div", { class: "row-side" }, statusBadge(row.status), h("span", { class: "server" }, formatTime(row.created_at))),
  );
}
