// The Wallet's view. Rendering choice: plain TypeScript building DOM nodes, with text entering
// the page only as text nodes (see dom.ts; `npm run check` fails on any HTML sink). No
// framework means no template language that could be misused with untrusted text, nothing to
// audit beyond these files, and a tiny bundle under a strict CSP.
import { api, onOpenLink, onWalletUpdate } from "./api";
import { markOnce, measure } from "./perf";
import { clear, h } from "./dom";
import { tickCountdowns } from "./time";
import { isWalletError, type ReviewView, type WalletError, type WalletUpdate } from "./types";
import { errorView } from "./views/errors";
import { historyView } from "./views/history";
import { inboxView } from "./views/inbox";
import { CHUNK, type VirtualList } from "./views/virtuallist";
import { pairConfirmView, pairingsView } from "./views/pairing";
import { reviewView } from "./views/review";
import { notificationSettings } from "./views/notifications";
import { settingsView } from "./views/settings";

type Screen =
  | { kind: "inbox" }
  | { kind: "history"; query: string }
  | { kind: "pairings" }
  | { kind: "settings" }
  | { kind: "review"; pairing: string; id: string }
  | { kind: "pair"; server: string; code: string }
  | { kind: "error"; error: WalletError };

const app = document.getElementById("app")!;
const main = h("main", { id: "main" });
const countBadge = h("span", { class: "nav-count", "data-testid": "nav-count" }, "0");
let screen: Screen = { kind: "inbox" };
let busy = false;
let renderSeq = 0;
let scrollTop = false;
/** The list on screen (inbox or history), refreshed in place when the inbox changes. */
let list: VirtualList | null = null;

function asError(e: unknown): WalletError {
  return isWalletError(e) ? e : { code: "internal", message: String(e) };
}

function go(next: Screen): void {
  screen = next;
  scrollTop = true;
  void render();
}

interface Built {
  view: HTMLElement;
  list?: VirtualList | null;
}

/** An update's render is in flight; another update asked for one meanwhile. */
let redrawing = false;
let redrawAgain = false;

/**
 * Draws the screen again because of an update. At most one such render runs at a time, and
 * at most one more follows it, however many updates arrive meanwhile: each render asks Rust
 * for its data, and a render per update during a flood (while the inbox has no list yet)
 * would supersede the one before it again and again, never finishing, each asking again.
 */
function redraw(): void {
  if (redrawing) {
    redrawAgain = true;
    return;
  }
  redrawing = true;
  void render().finally(() => {
    redrawing = false;
    if (redrawAgain) {
      redrawAgain = false;
      redraw();
    }
  });
}

async function render(): Promise<void> {
  const seq = ++renderSeq;
  let built: Built;
  try {
    built = await build(screen);
  } catch (e) {
    built = { view: errorView(asError(e), () => go({ kind: "inbox" })) };
  }
  if (seq !== renderSeq) {
    built.list?.destroy();
    return; // a newer render started meanwhile
  }
  list?.destroy();
  list = built.list ?? null;
  const view = built.view;
  clear(main);
  main.appendChild(view);
  tickCountdowns(main);
  if (scrollTop) {
    window.scrollTo(0, 0);
    scrollTop = false;
  }
}

async function build(s: Screen): Promise<Built> {
  switch (s.kind) {
    case "inbox": {
      const [inbox, pairings] = await Promise.all([api.inbox(0, CHUNK), api.pairings()]);
      if (inbox.rows.length > 0) markOnce("wallet-inbox-first-data");
      countBadge.textContent = String(inbox.count);
      const shown = inboxView(
        inbox,
        pairings.length > 0,
        (row) => go({ kind: "review", pairing: row.pairing, id: row.approval_id }),
        (offset, limit) => api.inbox(offset, limit),
        (count) => {
          countBadge.textContent = String(count);
        },
      );
      return { view: shown.element, list: shown.list };
    }
    case "history": {
      const first = await api.history(s.query, CHUNK);
      const shown = historyView(
        first,
        s.query,
        (q) => go({ kind: "history", query: q }),
        (row) => go({ kind: "review", pairing: row.pairing, id: row.approval_id }),
        (offset, limit) => api.historyPage(first.search, offset, limit),
      );
      return { view: shown.element, list: shown.list };
    }
    case "pairings": {
      const list = await api.pairings();
      const view = pairingsView(list, async (pairing) => {
        try {
          await api.removePairing(pairing);
          go({ kind: "pairings" });
        } catch (e) {
          go({ kind: "error", error: asError(e) });
        }
      });
      return { view };
    }
    case "settings": {
      // Start at login (the autostart entry), then notifications per pairing and quiet hours.
      const [startAtLogin, settings] = await Promise.all([api.startAtLogin(), api.settings()]);
      const view = settingsView(
        startAtLogin,
        (enabled) => settingsChange(api.setStartAtLogin(enabled)),
        notificationSettings(settings, {
          setNotifications: (pairing, enabled) => settingsChange(api.setNotifications(pairing, enabled)),
          setQuietHours: (hours) => settingsChange(api.setQuietHours(hours)),
        }),
      );
      return { view };
    }
    case "review":
      return { view: await reviewScreen(s.pairing, s.id) };
    case "pair": {
      const preview = await api.previewPairing(s.server, s.code);
      const view = pairConfirmView(
        preview,
        async () => {
          busy = true;
          try {
            await api.confirmPairing(s.server, s.code);
            go({ kind: "inbox" });
          } catch (e) {
            go({ kind: "error", error: asError(e) });
          } finally {
            busy = false;
          }
        },
        () => go({ kind: "inbox" }),
        busy,
      );
      return { view };
    }
    case "error":
      return { view: errorView(s.error, () => go({ kind: "inbox" })) };
  }
}

/** Applies a settings change and draws the settings again (or the error). */
function settingsChange(change: Promise<unknown>): void {
  change.then(
    () => go({ kind: "settings" }),
    (e) => go({ kind: "error", error: asError(e) }),
  );
}

async function reviewScreen(pairing: string, id: string): Promise<HTMLElement> {
  const t0 = performance.now();
  const view = await api.review(pairing, id);
  const t1 = performance.now();
  measure("review-ipc", t0);
  try {
    return buildReview(pairing, id, view);
  } finally {
    measure("review-build", t1);
  }
}

function buildReview(pairing: string, id: string, view: ReviewView): HTMLElement {
  return reviewView(
    view,
    {
      back: () => go({ kind: "inbox" }),
      bodyPage: (index) => api.bodyPage(pairing, id, view.digest, index),
      bodySeen: () => api.bodySeen(pairing, id, view.digest),
      decide: async (verdict, comment) => {
        if (busy) return;
        busy = true;
        void render();
        try {
          const after = await api.decide(pairing, id, verdict, comment, view.digest);
          busy = false;
          clear(main);
          main.appendChild(
            reviewView(
              after,
              {
                back: () => go({ kind: "inbox" }),
                bodyPage: (index) => api.bodyPage(pairing, id, after.digest, index),
                bodySeen: async () => {},
                decide: () => {},
              },
              false,
            ),
          );
          window.scrollTo(0, 0); // the outcome is at the top
          if (after.status === "approved" || after.status === "executing") followOutcome(pairing, id);
        } catch (e) {
          busy = false;
          go({ kind: "error", error: asError(e) });
        }
      },
    },
    busy,
  );
}

/** After an approval, refreshes the review until the call has run (or 30 s passed). */
function followOutcome(pairing: string, id: string): void {
  let tries = 0;
  const timer = window.setInterval(async () => {
    tries++;
    const still = screen.kind === "review" && screen.pairing === pairing && screen.id === id;
    if (!still || tries > 30) return window.clearInterval(timer);
    try {
      const v = await api.review(pairing, id);
      if (v.status !== "approved" && v.status !== "executing") {
        window.clearInterval(timer);
        void render();
      }
    } catch {
      window.clearInterval(timer);
    }
  }, 1000);
}

async function openLink(link: string): Promise<void> {
  try {
    const action = await api.openLink(link);
    if (action.action === "confirm_pairing") go({ kind: "pair", server: action.server, code: action.code });
    else go({ kind: "review", pairing: action.pairing, id: action.approval_id });
  } catch (e) {
    go({ kind: "error", error: asError(e) });
  }
}

function onUpdate(u: WalletUpdate): void {
  switch (u.type) {
    case "inbox_changed":
      countBadge.textContent = String(u.count);
      // The list on screen asks for its visible rows again (coalesced during a flood); an
      // inbox that had no list, or has no row any more, is drawn again.
      if (screen.kind === "inbox") {
        if (list && u.count > 0) list.refresh();
        else redraw();
      }
      break;
    case "approval_changed":
      if (screen.kind === "review" && screen.pairing === u.pairing && screen.id === u.approval_id && !busy) redraw();
      break;
    case "focus":
      go({ kind: "review", pairing: u.pairing, id: u.approval_id });
      break;
    case "show_inbox":
      // A summary notification was clicked: the window is raised; show the inbox.
      go({ kind: "inbox" });
      break;
    case "connection":
      if (screen.kind === "pairings") redraw();
      // A service's list became complete (or its sync restarted): the "syncing" mark follows.
      if (screen.kind === "inbox") {
        if (list) list.refresh();
        else redraw();
      }
      break;
    default:
      unhandled(u);
  }
}

/** Fails type checking when a WalletUpdate variant has no case above. */
function unhandled(_: never): void {}

function shell(): void {
  const linkInput = h("input", {
    type: "text",
    placeholder: "Paste a countersign:// link",
    "aria-label": "countersign link",
    spellcheck: "false",
    autocomplete: "off",
    "data-testid": "link-input",
  }) as HTMLInputElement;
  const form = h(
    "form",
    { class: "paste", onsubmit: (ev: Event) => { ev.preventDefault(); const v = linkInput.value.trim(); linkInput.value = ""; if (v) void openLink(v); } },
    linkInput,
    h("button", { type: "submit", "data-testid": "link-open" }, "Open"),
  );
  const nav = h(
    "nav",
    {},
    h("button", { "data-testid": "nav-inbox", onclick: () => go({ kind: "inbox" }) }, "Inbox ", countBadge),
    h("button", { "data-testid": "nav-history", onclick: () => go({ kind: "history", query: "" }) }, "History"),
    h("button", { "data-testid": "nav-pairings", onclick: () => go({ kind: "pairings" }) }, "Pairings"),
    h("button", { "data-testid": "nav-settings", onclick: () => go({ kind: "settings" }) }, "Settings"),
  );
  app.appendChild(h("header", {}, h("div", { class: "brand" }, "Countersign Wallet"), nav, form));
  app.appendChild(main);
}

async function start(): Promise<void> {
  markOnce("wallet-script");
  shell();
  // The first screen is asked for at once, not after the listeners are registered (each is a
  // round trip to Rust); an inbox change in between is caught by the refresh below.
  const first = render();
  await onWalletUpdate(onUpdate);
  await onOpenLink((link) => void openLink(link));
  const early = await api.uiReady();
  markOnce("wallet-ui-ready");
  await first;
  if (screen.kind === "inbox") list?.refresh();
  // Links and notification clicks that arrived before this view listened (e.g. the one that
  // opened this window), in order.
  for (const nav of early) {
    if (nav.kind === "link") await openLink(nav.link);
    else onUpdate(nav.update);
  }
  window.setInterval(() => {
    if (tickCountdowns(main) && screen.kind === "inbox") list?.refresh();
  }, 1000);
}

void start().catch((e) => {
  clear(main);
  main.appendChild(errorView(asError(e), () => go({ kind: "inbox" })));
});
