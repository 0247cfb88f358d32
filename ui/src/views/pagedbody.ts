// The request body on the review screen, shown whole but page by page. The Wallet keeps the
// body (Rust cuts it into pages of 500 lines: JSON lines, form rows, text or hex lines); the
// view gets the first page with the review and asks for the next one when the person scrolls
// to the end of the last page drawn, or presses "Next page". At most WINDOW pages are in the
// DOM at once (scrolling back to the top of the first one brings the previous page back), so
// each page costs the same to draw however long the body is.
//
// The body counts as seen to the end once the last page was drawn and scrolled to its bottom;
// only then can Approve be pressed. The Wallet checks the same in Rust: it records every page
// it handed out and accepts "seen" only when all of them were, and it signs an approval only
// for a digest reported seen.
import { append, h, revealed, text } from "../dom";
import type { BodyHead, BodyPage, FormField, JsonLine } from "../types";

/** Pages kept in the DOM at once. */
export const WINDOW = 3;

export interface PagedBody {
  /** The scroll box and its "next page" control. */
  element: HTMLElement;
  /** Pages reached so far (each drawn only after the previous one's end was reached). */
  pagesSeen: () => number;
  /** All pages. */
  pages: number;
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

/** One page's element: a block of lines, or a table body of form rows. */
function pageElement(p: BodyPage): HTMLElement {
  if (p.lines.kind === "form") {
    const tbody = h("tbody", { "data-page": String(p.index) });
    for (const f of p.lines.lines) tbody.appendChild(formRow(f));
    return tbody;
  }
  const pre = h("pre", { class: "body-page", "data-page": String(p.index) });
  const f = document.createDocumentFragment();
  if (p.lines.kind === "json") {
    for (const l of p.lines.lines) {
      f.appendChild(jsonLine(l));
      f.appendChild(text("\n"));
    }
  } else {
    for (const l of p.lines.lines) {
      f.appendChild(h("span", { class: "text-line", "data-testid": "body-line" }, revealed(l)));
      f.appendChild(text("\n"));
    }
  }
  pre.appendChild(f);
  return pre;
}

/**
 * The body's content, paged. `fetchPage` asks the Wallet for one page. `onProgress` runs after
 * every page and when the end is reached (`atEnd`): the caller updates the Approve button and
 * tells the Wallet.
 */
export function pagedBody(
  head: BodyHead,
  first: BodyPage,
  fetchPage: (index: number) => Promise<BodyPage>,
  onProgress: (seen: number, pages: number, atEnd: boolean) => void,
): PagedBody {
  const pages = head.pages;
  let content: HTMLElement;
  let target: HTMLElement;
  if (head.kind === "empty") {
    content = h("p", { class: "muted" }, "No body.");
    target = content;
  } else if (head.kind === "form" && head.lines === 0) {
    content = h("p", { class: "muted" }, "No fields.");
    target = content;
  } else if (head.kind === "form") {
    content = h(
      "table",
      { class: "form-fields", "data-testid": "form-table" },
      h("thead", {}, h("tr", {}, h("th", {}, "Name"), h("th", {}, "Value"), h("th", {}, "As written"))),
    );
    target = content;
  } else {
    content = h("div", { class: `body-text ${head.kind} paged` });
    target = content;
  }
  const drawnEmpty = head.kind === "empty" || (head.kind === "form" && head.lines === 0);

  // The pages in the DOM: lo..hi, in order. `reached` pages were drawn in order from the first.
  const shown = new Map<number, HTMLElement>();
  let lo = 0;
  let hi = -1;
  let reached = 0;
  let atEnd = false;
  let busy = false;
  let failed: string | null = null;

  const scroller = h("div", { class: "body-scroll", "data-testid": "body-scroll", tabindex: "0" }, content);
  const progress = h("span", { class: "body-progress", "data-testid": "body-progress", "aria-live": "polite" });
  const next = h("button", { class: "link body-next", "data-testid": "body-next", onclick: () => void after(true) }, "Next page ↓") as HTMLButtonElement;
  const element = h("div", { class: "paged-body" }, scroller, h("div", { class: "body-pager" }, progress, next));

  function update(): void {
    progress.textContent = failed
      ? `Could not load the next page: ${failed}. Scroll again to retry.`
      : atEnd
        ? `All ${pages} page${pages === 1 ? "" : "s"} seen, to the last line.`
        : `Page ${hi + 1} of ${pages} (${reached} reached) · scroll to the end of the body (or press Next page)`;
    next.disabled = hi >= pages - 1 || busy;
    element.setAttribute("data-pages", String(pages));
    element.setAttribute("data-pages-seen", String(reached));
    element.setAttribute("data-page-first", String(lo));
    element.setAttribute("data-page-last", String(hi));
    element.setAttribute("data-at-end", atEnd ? "true" : "false");
    onProgress(reached, pages, atEnd);
  }

  function draw(p: BodyPage, where: "end" | "start"): HTMLElement {
    const el = pageElement(p);
    if (where === "end") target.appendChild(el);
    else {
      const firstShown = shown.get(lo);
      target.insertBefore(el, firstShown ?? null);
    }
    shown.set(p.index, el);
    return el;
  }

  async function fetchOrFail(index: number): Promise<BodyPage | null> {
    busy = true;
    update();
    try {
      const p = await fetchPage(index);
      failed = null;
      return p;
    } catch (e) {
      failed = typeof e === "object" && e !== null && "message" in e ? String((e as { message: unknown }).message) : String(e);
      return null;
    } finally {
      busy = false;
    }
  }

  /** The page after the last one drawn; with `reveal`, scrolled to its first line. */
  async function after(reveal: boolean): Promise<void> {
    if (busy || hi >= pages - 1) return;
    const p = await fetchOrFail(hi + 1);
    if (!p) return update();
    const el = draw(p, "end");
    hi = p.index;
    reached = Math.max(reached, hi + 1);
    if (hi - lo + 1 > WINDOW) {
      const old = shown.get(lo)!;
      const height = old.getBoundingClientRect().height;
      old.remove();
      shown.delete(lo);
      lo++;
      scroller.scrollTop -= height;
    }
    if (reveal) scroller.scrollTop = el.getBoundingClientRect().top - scroller.getBoundingClientRect().top + scroller.scrollTop;
    update();
    window.requestAnimationFrame(check);
  }

  /** The page before the first one drawn, above it, the view kept where it was. */
  async function before(): Promise<void> {
    if (busy || lo <= 0) return;
    const p = await fetchOrFail(lo - 1);
    if (!p) return update();
    const el = draw(p, "start");
    lo = p.index;
    scroller.scrollTop += el.getBoundingClientRect().height;
    if (hi - lo + 1 > WINDOW) {
      shown.get(hi)!.remove();
      shown.delete(hi);
      hi--;
    }
    update();
  }

  /** At the bottom of the box: the next page, or the end seen; at its top: the previous. */
  let waits = 0;
  function check(): void {
    // Not on screen yet (no layout): nothing can have been seen; look again next frame.
    if (!scroller.isConnected || scroller.clientHeight === 0) {
      if (waits++ < 600) window.requestAnimationFrame(check);
      return;
    }
    if (scroller.scrollTop <= 4 && lo > 0) {
      void before();
      return;
    }
    const bottom = scroller.scrollTop + scroller.clientHeight >= scroller.scrollHeight - 4;
    if (!bottom || atEnd) return;
    if (hi < pages - 1) void after(false);
    else if (reached >= pages) {
      atEnd = true;
      update();
    }
  }

  scroller.addEventListener("scroll", check);
  if (!drawnEmpty) draw(first, "end");
  hi = 0;
  reached = 1;
  update();
  window.requestAnimationFrame(check);
  return { element, pagesSeen: () => reached, pages };
}
