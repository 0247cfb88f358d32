// A long list of fixed-height rows drawn virtually: only the rows in and near the window's
// viewport exist in the DOM, placed absolutely inside a box as tall as the whole list, so
// scrolling through 10,000 rows costs what scrolling through twenty does and every row stays
// reachable. Rows are asked of the Wallet in chunks as they come into view.
//
// Per frame of scrolling the list only computes its range from `window.scrollY` (the list's
// own offset is measured once, not read in the scroll path), re-uses the elements of rows that
// left the range for the rows that entered it (no element is removed and created again while
// scrolling), and asks for the next two chunks in the direction of travel before they are
// needed. All DOM writes happen in one requestAnimationFrame callback.
import { h } from "../dom";
import { measure } from "../perf";

/** Rows asked of the Wallet at once. */
export const CHUNK = 50;
/** Rows drawn beyond each edge of the viewport. */
const OVERSCAN = 6;
/** Chunks asked for ahead of the viewport in the direction of travel. */
const AHEAD = 2;
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
  /** Told once, after the first frame in which a real (fetched) row was drawn. */
  onFirstRow?: () => void;
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
    if (chunk < 0 || chunk * CHUNK >= count) return;
    if (loading.has(chunk) || chunks.has(chunk)) return;
    loading.add(chunk);
    const asked = generation;
    const t0 = performance.now();
    o.fetch(chunk * CHUNK, CHUNK)
      .then((r) => {
        measure("vlist-fetch", t0);
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

  /** The list's top in page coordinates, measured when first needed after a change of layout
   * (not on every frame: a layout read in the scroll path can force a synchronous layout). */
  let listTop: number | null = null;
  function pageTop(): number {
    if (listTop === null) listTop = element.getBoundingClientRect().top + window.scrollY;
    return listTop;
  }

  /** The rows in and near the viewport, when the list is on screen; else the first ones. */
  function range(): [number, number] {
    if (!element.isConnected) return [0, Math.min(count, 20) - 1];
    const top = pageTop() - window.scrollY;
    const first = Math.floor(-top / o.rowHeight) - OVERSCAN;
    const last = Math.ceil((window.innerHeight - top) / o.rowHeight) + OVERSCAN;
    return [Math.max(0, first), Math.min(count - 1, last)];
  }

  let lastFirst = 0;
  let firstRowTold = false;

  /**
   * Draws the rows of the range. A row already drawn (same key) keeps its element and only
   * moves (rows are not replaced under the pointer while a flood shifts the list); the
   * elements of rows that left the range are re-used for rows that entered it; rows not
   * fetched yet show what was known before the last refresh, or a placeholder.
   */
  function update(): void {
    const t0 = performance.now();
    const [first, last] = range();
    const byKey = new Map<string, HTMLElement>();
    for (const d of drawn.values()) byKey.set(d.key, d.el);
    const next = new Map<number, Drawn>();
    const missing: [number, T | undefined, string][] = [];
    let real = false;
    for (let i = first; i <= last; i++) {
      const fresh = rowIn(chunks, i);
      if (fresh === undefined) load(Math.floor(i / CHUNK));
      const row = fresh ?? rowIn(stale, i);
      if (row !== undefined) real = true;
      const key = row === undefined ? `placeholder ${i}` : o.key(row);
      const el = byKey.get(key);
      if (el) {
        byKey.delete(key);
        place(el, i);
        next.set(i, { key, el });
      } else missing.push([i, row, key]);
    }
    // Elements no longer in the range are re-used for the rows that entered it.
    const free = [...byKey.values()];
    for (const [i, row, key] of missing) {
      let el = free.pop();
      if (!el) {
        el = h("li", { class: "vrow" });
        element.appendChild(el);
      }
      if (row === undefined) {
        el.className = "vrow placeholder";
        el.replaceChildren();
      } else {
        el.className = "vrow";
        el.replaceChildren(o.render(row));
      }
      place(el, i);
      next.set(i, { key, el });
    }
    for (const el of free) el.remove();
    drawn = next;
    // The next chunks in the direction of travel, before they are needed.
    if (last >= 0) {
      const down = first >= lastFirst;
      for (let k = 1; k <= AHEAD; k++) {
        load(Math.floor((down ? last + k * CHUNK - CHUNK / 2 : first - k * CHUNK + CHUNK / 2) / CHUNK));
      }
    }
    lastFirst = first;
    measure("vlist-update", t0);
    if (real && !firstRowTold && element.isConnected) {
      firstRowTold = true;
      o.onFirstRow?.();
    }
  }

  function place(el: HTMLElement, i: number): void {
    const index = String(i);
    if (el.dataset.index === index) return;
    el.dataset.index = index;
    el.style.transform = `translateY(${i * o.rowHeight}px)`;
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
    listTop = null;
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
  const onResize = () => {
    listTop = null;
    schedule();
  };
  window.addEventListener("scroll", onScroll, { passive: true });
  window.addEventListener("resize", onResize, { passive: true });
  return {
    element,
    refresh: () => {
      if (timer !== undefined) return;
      const wait = lastRefresh + REFRESH_MS - performance.now();
      timer = window.setTimeout(refreshNow, Math.max(0, wait));
    },
    destroy: () => {
      window.removeEventListener("scroll", onScroll);
      window.removeEventListener("resize", onResize);
      if (timer !== undefined) window.clearTimeout(timer);
      if (frame) window.cancelAnimationFrame(frame);
    },
  };
}
