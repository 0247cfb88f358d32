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
  /** What identifies a row (a re-fetched row with the same key and data is not redrawn). */
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
  generation: number;
  el: HTMLElement;
}

export function virtualList<T>(o: VirtualListOptions<T>): VirtualList {
  let count = o.initial.count;
  let generation = 0;
  let chunks = new Map<number, T[]>();
  const loading = new Set<number>();
  const drawn = new Map<number, Drawn>();
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
      .finally(() => loading.delete(chunk));
  }

  function rowAt(i: number): T | undefined {
    return chunks.get(Math.floor(i / CHUNK))?.[i % CHUNK];
  }

  function place(i: number, row: T | undefined): void {
    const had = drawn.get(i);
    if (row === undefined) {
      // Not fetched yet: keep what was drawn there (a refresh is on its way), or a placeholder.
      if (!had) {
        const el = h("li", { class: "vrow placeholder" });
        el.style.top = `${i * o.rowHeight}px`;
        element.appendChild(el);
        drawn.set(i, { key: "", generation: -1, el });
      }
      return;
    }
    const key = o.key(row);
    if (had && had.key === key && had.generation === generation) return;
    const el = h("li", { class: "vrow", "data-index": String(i) }, o.render(row));
    el.style.top = `${i * o.rowHeight}px`;
    if (had) element.replaceChild(el, had.el);
    else element.appendChild(el);
    drawn.set(i, { key, generation, el });
  }

  /** The rows in and near the viewport, when the list is on screen; else the first ones. */
  function range(): [number, number] {
    if (!element.isConnected) return [0, Math.min(count, 20) - 1];
    const top = element.getBoundingClientRect().top;
    const first = Math.floor(-top / o.rowHeight) - OVERSCAN;
    const last = Math.ceil((window.innerHeight - top) / o.rowHeight) + OVERSCAN;
    return [Math.max(0, first), Math.min(count - 1, last)];
  }

  function update(): void {
    const [first, last] = range();
    for (const [i, d] of drawn) {
      if (i < first || i > last) {
        d.el.remove();
        drawn.delete(i);
      }
    }
    for (let i = first; i <= last; i++) {
      const row = rowAt(i);
      place(i, row);
      if (row === undefined) load(Math.floor(i / CHUNK));
    }
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
