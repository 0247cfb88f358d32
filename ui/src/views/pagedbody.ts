// The request body on the review screen, shown whole but rendered page by page: a page of
// PAGE_LINES lines (JSON lines, form rows, text or hex lines) is added when the person scrolls to
// the end of the previous one or presses "Next page". The body counts as seen to the end once
// the last page is rendered and scrolled to its bottom; only then can Approve be pressed (the
// Wallet checks the same in Rust: it signs an approval only for a digest reported seen).
import { append, h, revealed, text } from "../dom";
import type { BodyView, FormField, JsonLine, Revealed, Segment } from "../types";

/** Lines (or form rows) per page. */
export const PAGE_LINES = 200;

export interface PagedBody {
  /** The scroll box and its "next page" control. */
  element: HTMLElement;
  /** Pages rendered so far (each rendered only after the previous one's end was reached). */
  pagesSeen: () => number;
  /** All pages. */
  pages: number;
}

/** Splits revealed text into its lines, keeping the hidden-character markers. */
export function revealedLines(r: Revealed): Revealed[] {
  const lines: Segment[][] = [[]];
  for (const s of r.segments) {
    if (s.type !== "text") {
      lines[lines.length - 1].push(s);
      continue;
    }
    s.text.split("\n").forEach((part, i) => {
      if (i > 0) lines.push([]);
      if (part !== "") lines[lines.length - 1].push({ type: "text", text: part });
    });
  }
  // A final line feed ends the last line; it does not start another.
  if (lines.length > 1 && lines[lines.length - 1].length === 0) lines.pop();
  return lines.map((segments) => ({
    text: segments.map((s) => (s.type === "text" ? s.text : s.marker)).join(""),
    segments,
    warning: false,
    kinds: [],
  }));
}

function jsonLine(l: JsonLine): HTMLElement {
  const line = h("span", { class: l.duplicate ? "json-line duplicate" : "json-line", "data-testid": "body-line" }, "  ".repeat(l.depth));
  if (l.key) append(line, revealed(l.key, "json-key"), ": ");
  append(line, revealed(l.token, "json-token"), l.comma ? "," : null);
  if (l.duplicate) line.appendChild(h("span", { class: "dup-mark", title: "the provider may read the last one" }, "  ← duplicate name"));
  return line;
}

function formRow(f: FormField): HTMLElement {
  return h(
    "tr",
    { class: f.duplicate ? "duplicate" : "", "data-testid": "form-row" },
    h("td", {}, revealed(f.name, "form-name"), f.duplicate ? h("span", { class: "dup-mark" }, " (duplicate)") : null),
    h("td", {}, f.value ? revealed(f.value, "form-value") : h("span", { class: "muted" }, "(no value)")),
    h("td", { class: "muted" }, f.raw ? revealed(f.raw) : ""),
  );
}

/**
 * The body's content, paged. `onProgress` runs after every page and when the end is reached
 * (`atEnd`): the caller updates the Approve button and tells the Wallet.
 */
export function pagedBody(b: BodyView, onProgress: (seen: number, pages: number, atEnd: boolean) => void): PagedBody {
  let target: HTMLElement;
  let items: (() => Node)[];
  let content: HTMLElement;
  if (b.kind === "json") {
    content = h("pre", { class: "body-text json paged" });
    target = content;
    items = b.json.map((l) => () => {
      const f = document.createDocumentFragment();
      f.appendChild(jsonLine(l));
      f.appendChild(text("\n"));
      return f;
    });
  } else if (b.kind === "form") {
    const tbody = h("tbody", {});
    content = h(
      "table",
      { class: "form-fields", "data-testid": "form-table" },
      h("thead", {}, h("tr", {}, h("th", {}, "Name"), h("th", {}, "Value"), h("th", {}, "As written"))),
      tbody,
    );
    target = tbody;
    items = b.form.map((f) => () => formRow(f));
  } else if (b.kind === "empty") {
    content = h("p", { class: "muted" }, "No body.");
    target = content;
    items = [];
  } else {
    content = h("pre", { class: `body-text ${b.kind} paged` });
    target = content;
    items = revealedLines(b.display).map((l) => () => {
      const f = document.createDocumentFragment();
      f.appendChild(h("span", { class: "text-line", "data-testid": "body-line" }, revealed(l)));
      f.appendChild(text("\n"));
      return f;
    });
  }
  if (b.kind === "form" && b.form.length === 0) {
    content = h("p", { class: "muted" }, "No fields.");
    target = content;
  }
  const pages = Math.max(1, Math.ceil(items.length / PAGE_LINES));
  let rendered = 0;
  let atEnd = false;

  const scroller = h("div", { class: "body-scroll", "data-testid": "body-scroll", tabindex: "0" }, content);
  const progress = h("span", { class: "body-progress", "data-testid": "body-progress", "aria-live": "polite" });
  const next = h("button", { class: "link body-next", "data-testid": "body-next", onclick: () => renderPage(true) }, "Next page ↓") as HTMLButtonElement;
  const element = h("div", { class: "paged-body" }, scroller, h("div", { class: "body-pager" }, progress, next));

  function update(): void {
    progress.textContent = atEnd
      ? `All ${pages} page${pages === 1 ? "" : "s"} seen, to the last line.`
      : `Page ${rendered} of ${pages} · scroll to the end of the body (or press Next page)`;
    next.disabled = rendered >= pages;
    element.setAttribute("data-pages", String(pages));
    element.setAttribute("data-pages-seen", String(rendered));
    element.setAttribute("data-at-end", atEnd ? "true" : "false");
    onProgress(rendered, pages, atEnd);
  }

  function renderPage(reveal: boolean): void {
    if (rendered >= pages) return;
    const from = rendered * PAGE_LINES;
    const first = target.childNodes.length;
    for (const make of items.slice(from, from + PAGE_LINES)) target.appendChild(make());
    rendered++;
    // "Next page" brings the new page into view: its first line is at the top of the box.
    if (reveal && first > 0) {
      const node = target.childNodes[first];
      if (node instanceof HTMLElement) scroller.scrollTop = node.offsetTop - scroller.offsetTop;
    }
    update();
    window.requestAnimationFrame(check);
  }

  /** At the bottom of the box: the next page, or the end seen. */
  let waits = 0;
  function check(): void {
    if (atEnd) return;
    // Not on screen yet (no layout): nothing can have been seen; look again next frame.
    if (!scroller.isConnected || scroller.clientHeight === 0) {
      if (waits++ < 600) window.requestAnimationFrame(check);
      return;
    }
    const bottom = scroller.scrollTop + scroller.clientHeight >= scroller.scrollHeight - 4;
    if (!bottom) return;
    if (rendered < pages) renderPage(false);
    else {
      atEnd = true;
      update();
    }
  }

  scroller.addEventListener("scroll", check);
  renderPage(false);
  return { element, pagesSeen: () => rendered, pages };
}
