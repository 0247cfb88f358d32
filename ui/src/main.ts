// The Wallet's view. Rendering choice: plain TypeScript building DOM nodes, with text entering
// the page only as text nodes (see dom.ts; `npm run check` fails on any HTML sink). No
// framework means no template language that could be misused with untrusted text, nothing to
// audit beyond these files, and a tiny bundle under a strict CSP.
import { api, onOpenLink, onWalletUpdate } from "./api";
import { clear, h } from "./dom";
import { tickCountdowns } from "./time";
import { isWalletError, type WalletError, type WalletUpdate } from "./types";
import { errorView } from "./views/errors";
import { historyView } from "./views/history";
import { inboxView, PAGE } from "./views/inbox";
import { pairConfirmView, pairingsView } from "./views/pairing";
import { reviewView } from "./views/review";

type Screen =
  | { kind: "inbox" }
  | { kind: "history"; query: string }
  | { kind: "pairings" }
  | { kind: "review"; server: string; id: string }
  | { kind: "pair"; server: string; code: string }
  | { kind: "error"; error: WalletError };

const app = document.getElementById("app")!;
const main = h("main", { id: "main" });
const countBadge = h("span", { class: "nav-count", "data-testid": "nav-count" }, "0");
let screen: Screen = { kind: "inbox" };
let busy = false;
let renderSeq = 0;
let scrollTop = false;
let inboxLimit = PAGE;

function asError(e: unknown): WalletError {
  return isWalletError(e) ? e : { code: "internal", message: String(e) };
}

function go(next: Screen): void {
  if (next.kind === "inbox" && screen.kind !== "inbox") inboxLimit = PAGE;
  screen = next;
  scrollTop = true;
  void render();
}

async function render(): Promise<void> {
  const seq = ++renderSeq;
  let view: HTMLElement;
  try {
    view = await build(screen);
  } catch (e) {
    view = errorView(asError(e), () => go({ kind: "inbox" }));
  }
  if (seq !== renderSeq) return; // a newer render started meanwhile
  clear(main);
  main.appendChild(view);
  tickCountdowns(main);
  if (scrollTop) {
    window.scrollTo(0, 0);
    scrollTop = false;
  }
}

async function build(s: Screen): Promise<HTMLElement> {
  switch (s.kind) {
    case "inbox": {
      const [inbox, pairings] = await Promise.all([api.inbox(), api.pairings()]);
      countBadge.textContent = String(inbox.count);
      return inboxView(
        inbox,
        pairings.length > 0,
        (row) => go({ kind: "review", server: row.server, id: row.approval_id }),
        inboxLimit,
        () => {
          inboxLimit += PAGE;
          void render();
        },
      );
    }
    case "history": {
      const rows = await api.history(s.query);
      return historyView(rows, s.query, (q) => go({ kind: "history", query: q }), (row) =>
        go({ kind: "review", server: row.server, id: row.approval_id }),
      );
    }
    case "pairings": {
      const list = await api.pairings();
      return pairingsView(list, async (server) => {
        await api.removePairing(server).catch((e) => go({ kind: "error", error: asError(e) }));
        go({ kind: "pairings" });
      });
    }
    case "review":
      return reviewScreen(s.server, s.id);
    case "pair": {
      const preview = await api.previewPairing(s.server, s.code);
      return pairConfirmView(
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
    }
    case "error":
      return errorView(s.error, () => go({ kind: "inbox" }));
  }
}

async function reviewScreen(server: string, id: string): Promise<HTMLElement> {
  const view = await api.review(server, id);
  return reviewView(
    view,
    {
      back: () => go({ kind: "inbox" }),
      bodySeen: () => api.bodySeen(server, id, view.digest),
      decide: async (verdict, comment) => {
        if (busy) return;
        busy = true;
        void render();
        try {
          const after = await api.decide(server, id, verdict, comment, view.digest);
          busy = false;
          clear(main);
          main.appendChild(reviewView(after, { back: () => go({ kind: "inbox" }), bodySeen: async () => {}, decide: () => {} }, false));
          window.scrollTo(0, 0); // the outcome is at the top
          if (after.status === "approved" || after.status === "executing") followOutcome(server, id);
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
function followOutcome(server: string, id: string): void {
  let tries = 0;
  const timer = window.setInterval(async () => {
    tries++;
    const still = screen.kind === "review" && screen.server === server && screen.id === id;
    if (!still || tries > 30) return window.clearInterval(timer);
    try {
      const v = await api.review(server, id);
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
    else go({ kind: "review", server: action.server, id: action.approval_id });
  } catch (e) {
    go({ kind: "error", error: asError(e) });
  }
}

function onUpdate(u: WalletUpdate): void {
  switch (u.type) {
    case "inbox_changed":
      countBadge.textContent = String(u.count);
      if (screen.kind === "inbox") void render();
      break;
    case "approval_changed":
      if (screen.kind === "review" && screen.server === u.server && screen.id === u.approval_id && !busy) void render();
      break;
    case "focus":
      go({ kind: "review", server: u.server, id: u.approval_id });
      break;
    case "show_inbox":
      // A summary notification was clicked: the window is raised; show the inbox.
      go({ kind: "inbox" });
      break;
    case "connection":
      if (screen.kind === "pairings") void render();
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
  );
  app.appendChild(h("header", {}, h("div", { class: "brand" }, "Countersign Wallet"), nav, form));
  app.appendChild(main);
}

async function start(): Promise<void> {
  shell();
  await onWalletUpdate(onUpdate);
  await onOpenLink((link) => void openLink(link));
  const early = await api.uiReady();
  await render();
  for (const link of early) await openLink(link);
  window.setInterval(() => {
    if (tickCountdowns(main) && screen.kind === "inbox") void render();
  }, 1000);
}

void start().catch((e) => {
  clear(main);
  main.appendChild(errorView(asError(e), () => go({ kind: "inbox" })));
});
