// Timings the view records with the User Timing API, for the benchmark
// (tests/wallet/tests/bench.rs reads them with `performance.getEntriesByName`). Bounded: each
// name keeps at most MAX entries (older ones are cleared), so a long-running Wallet does not
// accumulate them.

const MAX = 5000;
const counts = new Map<string, number>();

/** Records a measure `name` from `start` (a `performance.now()` value) to now. */
export function measure(name: string, start: number): void {
  const n = (counts.get(name) ?? 0) + 1;
  if (n > MAX) {
    performance.clearMeasures(name);
    counts.set(name, 1);
  } else counts.set(name, n);
  performance.measure(name, { start, end: performance.now() });
}

/** Records the mark `name` once per page load (later calls do nothing). */
export function markOnce(name: string): void {
  if (performance.getEntriesByName(name, "mark").length === 0) performance.mark(name);
}
