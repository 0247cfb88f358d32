// Fails when any view source uses an HTML sink. The view renders untrusted text (reasons,
// headers, bodies, app names) with textContent / text nodes only; this check keeps it so.
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const SINKS = [
  /\.innerHTML\b/,
  /\.outerHTML\b/,
  /insertAdjacentHTML/,
  /document\.write/,
  /\beval\s*\(/,
  /new\s+Function\s*\(/,
  /createContextualFragment/,
  /DOMParser/,
  /setAttribute\(\s*["']on/i,
  /setAttribute\(\s*["'](href|src|style)["']/i,
];

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith(".ts") ? [path] : [];
  });
}

let bad = 0;
for (const file of files(new URL("../src", import.meta.url).pathname)) {
  readFileSync(file, "utf8")
    .split("\n")
    .forEach((line, i) => {
      for (const sink of SINKS) {
        if (sink.test(line)) {
          console.error(`${file}:${i + 1}: HTML sink ${sink}: ${line.trim()}`);
          bad++;
        }
      }
    });
}
if (bad) process.exit(1);
console.log("no HTML sinks in ui/src");
