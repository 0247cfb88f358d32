// History: finished requests, searchable (the search runs in Rust over all paired services).
import { h, revealed } from "../dom";
import { formatTime } from "../time";
import type { HistoryRow } from "../types";
import { statusBadge } from "./common";

export function historyView(
  rows: HistoryRow[],
  query: string,
  search: (q: string) => void,
  open: (row: HistoryRow) => void,
): HTMLElement {
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
  const root = h("section", { class: "history", "data-testid": "history" }, h("h1", {}, "History"), input);
  if (rows.length === 0) {
    root.appendChild(h("p", { class: "empty" }, query ? "Nothing matches." : "No finished requests yet."));
    return root;
  }
  const list = h("ul", { class: "rows" });
  for (const row of rows) {
    list.appendChild(
      h(
        "li",
        {},
        h(
          "button",
          { class: "row", "data-testid": "history-row", onclick: () => open(row) },
          h("div", { class: "row-reason" }, revealed(row.reason)),
          h("div", { class: "row-meta" }, revealed(row.app), " · ", revealed(row.method), " ", revealed(row.url)),
          h("div", { class: "row-side" }, statusBadge(row.status), h("span", { class: "server" }, formatTime(row.created_at))),
        ),
      ),
    );
  }
  root.appendChild(list);
  return root;
}
