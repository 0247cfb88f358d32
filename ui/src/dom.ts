// A tiny element builder. Text only ever enters the page as text nodes: there is no way to
// pass HTML through it. Attributes are limited to a fixed, inert set.
import type { Revealed } from "./types";

type Child = Node | string | number | null | undefined | false;

const SAFE_ATTRS = new Set([
  "class",
  "id",
  "type",
  "placeholder",
  "title",
  "role",
  "aria-label",
  "aria-live",
  "rows",
  "maxlength",
  "spellcheck",
  "autocomplete",
  "disabled",
  "value",
  "for",
  "tabindex",
]);

export interface Props {
  [name: string]: string | boolean | undefined | ((ev: Event) => void);
}

export function h(tag: string, props: Props = {}, ...children: Child[]): HTMLElement {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === false) continue;
    if (typeof value === "function") {
      if (!name.startsWith("on")) throw new Error(`bad listener ${name}`);
      el.addEventListener(name.slice(2).toLowerCase(), value);
    } else if (SAFE_ATTRS.has(name) || name.startsWith("data-")) {
      el.setAttribute(name, value === true ? "" : value);
    } else {
      throw new Error(`attribute ${name} is not allowed`);
    }
  }
  append(el, ...children);
  return el;
}

export function append(el: Node, ...children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.appendChild(typeof c === "string" || typeof c === "number" ? text(String(c)) : c);
  }
}

export function text(s: string): Text {
  return document.createTextNode(s);
}

/** Untrusted text, with hidden characters shown as styled markers (e.g. ⟨U+202E⟩). */
export function revealed(r: Revealed, cls = ""): HTMLElement {
  const span = h("span", { class: `revealed ${cls}`.trim() });
  // Isolate the text so it cannot reorder what is around it.
  span.setAttribute("dir", "ltr");
  for (const s of r.segments) {
    if (s.type === "text") span.appendChild(text(s.text));
    else span.appendChild(h("span", { class: `hidden-char ${s.kind}`, title: hiddenTitle(s.kind) }, s.marker));
  }
  return span;
}

function hiddenTitle(kind: string): string {
  switch (kind) {
    case "bidi":
      return "bidirectional control character (can reorder text)";
    case "invisible":
      return "invisible or format character";
    case "space":
      return "a space that is not an ordinary space";
    default:
      return "control character";
  }
}

export function clear(el: Element): void {
  while (el.firstChild) el.removeChild(el.firstChild);
}
