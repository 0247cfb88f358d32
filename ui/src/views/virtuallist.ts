// A long list of fixed-height rows drawn virtually: only the rows in and near the window's
// viewport exist in the DOM, placed absolutely inside a box as tall as the whole list, so
// scrolling through 10,000 rows costs what scrolling through twenty does and every row stays
// reachable. Rows are asked of the Wallet in chunks as they come into view.
import { h } from "../dom";

/** Rows asked of the Wallet at once. */
export const CHUNK = 50;
/** Rows drawn beyond each edge of the viewport. */
const OVERSCAN = 6;
/** At most one refresh per this many milliseconds (a flood of updates is coalesced). */
const REFRESH_MS = 250;

export interface Rows<T> {
  rows: T[];
  offset: number;
  count: number;
}

export interface VirtualListOptions<T> {
  /** The height of one row, gap included, in pixels (the CSS gives rows this height). */
  rowHeight: number;
  /** The first chunk, already fetched (drawn at once, no placeholder). */
  initial: Rows<T>;
  /** Rows `offset..offset + limit`, and how many there are now. */
  fetch: (offset: number, limit: number) => Promise<Rows<T>>;
  /** One row's content (placed by the list). */
  render: (row: T) => HTMLElement;
  /** What identifies a row and what it shows that can change (a re-fetched row with the
   * same key is not drawn again). */
  key: (row: T) => string;
  /** Told whenever the row count is learned. */
  onCount?: (count: number) => void;
  /** The list's test id. */
  testid: string;
}

export interface VirtualList {
  element: HTMLElement;
  /** Asks for the visible rows and the count again (coalesced: at most every 250 ms). */
  refresh: () => void;
  /** Stops following the window's scrolling. */
  destroy: () => void;
}

interface Drawn {
  key: string;
  el: HTMLElement;
}

export function virtualList<T>(o: VirtualListOptions<T>): VirtualList {
  let count = o.initial.count;
  let generation = 0;
  let chunks = new Map<number, T[]>();
  // What was known before the last refresh: shown until the fresh rows arrive (no flicker).
  let stale = new Map<number, T[]>();
  const loading = new Set<number>();
  let drawn = new Map<number, Drawn>();
  const element = h("ul", { class: "rows vlist", "data-testid": o.testid, role: "list" });

  function setCount(n: number): void {
    count = n;
    element.style.height = `${count * o.rowHeight}px`;
    element.setAttribute("data-count", String(count));
    o.onCount?.(count);
  }

  function keep(r: Rows<T>): void {
    for (let i = 0; i * CHUNK < r.rows.length; i++) {
      const at = r.offset + i * CHUNK;
      if (at % CHUNK === 0) chunks.set(at / CHUNK, r.rows.slice(i * CHUNK, (i + 1) * CHUNK));
    }
  }

  function load(chunk: number): void {
    if (loading.has(chunk) || chunks.has(chunk)) return;
    loading.add(chunk);
    const asked = generation;
    o.fetch(chunk * CHUNK, CHUNK)
      .then((r) => {
        if (asked !== generation) return;
        keep(r);
        if (r.count !== count) setCount(r.count);
        schedule();
      })
      .catch(() => {})
      .finally(() => {
        if (asked === generation) loading.delete(chunk);
      });
  }

  function rowIn(from: Map<number, T[]>, i: number): T | undefined {
    return from.get(Math.floor(i / CHUNK))?.[i % CHUNK];
  }

  /** The rows in and near the viewport, when the list is on screen; else the first ones. */
  function range(): [number, number] {
    if (!element.isConnected) return [0, Math.min(count, 20) - 1];
    const top = element.getBoundingClientRect().top;
    const first = Math.floor(-top / o.rowHeight) - OVERSCAN;
    const last = Math.ceil((window.innerHeight - top) / o.rowHeight) + OVERSCAN;
    return [Math.max(0, first), Math.min(count - 1, last)];
  }

  /**
   * Draws the rows of the range. A row already drawn (same key) keeps its element and only
   * moves (rows are not replaced under the pointer while a flood shifts the list); rows not
   * fetched yet show what was known before the last refresh, or a placeholder.
   */
  function update(): void {
    const [first, last] = range();
    const byKey = new Map<string, HTMLElement>();
    for (const d of drawn.values()) byKey.set(d.key, d.el);
    const next = new Map<number, Drawn>();
    for (let i = first; i <= last; i++) {
      const fresh = rowIn(chunks, i);
      if (fresh === undefined) load(Math.floor(i / CHUNK));
      const row = fresh ?? rowIn(stale, i);
      const key = row === undefined ? `placeholder ${i}` : o.key(row);
      let el = byKey.get(key);
      if (el) byKey.delete(key);
      else {
        el = row === undefined ? h("li", { class: "vrow placeholder" }) : h("li", { class: "vrow" }, o.render(row));
        element.appendChild(el);
      }
      const top = `${i * o.rowHeight}px`;
      if (el.style.top !== top) el.style.top = top;
      el.setAttribute("data-index", String(i));
      next.set(i, { key, el });
    }
    for (const el of byKey.values()) el.remove();
    drawn = next;
    // The next chunk in the direction of travel, before it is needed.
    if (last >= 0 && last + CHUNK / 2 < count) load(Math.floor((last + CHUNK / 2) / CHUNK));
  }

  let frame = 0;
  function schedule(): void {
    if (frame) return;
    frame = window.requestAnimationFrame(() => {
      frame = 0;
      update();
    });
  }

  let lastRefresh = 0;
  let timer: number | undefined;
  function refreshNow(): void {
    timer = undefined;
    lastRefresh = performance.now();
    generation++;
    if (chunks.size > 0) stale = chunks;
    chunks = new Map();
    loading.clear();
    schedule();
  }

  keep(o.initial);
  setCount(count);
  update();
  schedule();
  const onScroll = () => schedule();
  window.addEventListener("scroll", onScroll, { passive: true });
  window.addEventListener("resize", onScroll, { passive: true });
  return {
    element,
    refresh: () => {
      if (timer !== undefined) return;
      const wait = lastRefresh + REFRESH_MS - performance.now();
      timer = window.setTimeout(refreshNow, Math.max(0, wait));
    },
    destroy: () => {
      window.removeEventListener("scroll", onScroll);
      window.removeEventListener("resize", onScroll);
      if (timer !== undefined) window.clearTimeout(timer);
      if (frame) window.cancelAnimationFrame(frame);
    },
  };
}
