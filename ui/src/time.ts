// Countdowns: each element with data-deadline (ms since epoch, local clock) shows time left.

export function deadlineFrom(secondsLeft: number): number {
  return Date.now() + secondsLeft * 1000;
}

export function formatLeft(ms: number): string {
  if (ms <= 0) return "expired";
  const s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h > 0) return `${h} h ${String(m).padStart(2, "0")} min left`;
  if (m > 0) return `${m} min ${String(sec).padStart(2, "0")} s left`;
  return `${sec} s left`;
}

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB (${bytes} bytes)`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB (${bytes} bytes)`;
}

export function formatTime(rfc3339: string): string {
  const d = new Date(rfc3339);
  return Number.isNaN(d.getTime()) ? rfc3339 : d.toLocaleString();
}

/** Updates every countdown on the page; returns true when one just reached zero. */
export function tickCountdowns(root: ParentNode): boolean {
  let expired = false;
  root.querySelectorAll<HTMLElement>("[data-deadline]").forEach((el) => {
    const left = Number(el.dataset.deadline) - Date.now();
    const label = formatLeft(left);
    if (el.textContent !== label) {
      if (label === "expired" && el.textContent !== "expired") expired = true;
      el.textContent = label;
    }
    el.classList.toggle("soon", left > 0 && left < 5 * 60 * 1000);
  });
  return expired;
}
