// Server time (E1): every deadline is the server's. The server's clock may be advanced in
// development, so "now" is the `Date` header of the last response plus the time elapsed
// since it arrived (monotonic), never the browser's wall clock.
let anchorServerMs: number | null = null;
let anchorLocalMs = 0;

const monotonic = (): number =>
  typeof performance !== 'undefined' ? performance.now() : Date.now();

export function syncServerClock(dateHeader: string | null, localMs = monotonic()): void {
  if (!dateHeader) return;
  const ms = Date.parse(dateHeader);
  if (Number.isNaN(ms)) return;
  anchorServerMs = ms;
  anchorLocalMs = localMs;
}

export function serverNow(localMs = monotonic()): number {
  if (anchorServerMs === null) return Date.now();
  return anchorServerMs + (localMs - anchorLocalMs);
}

/** Milliseconds left until `deadline` (RFC 3339) by the server's clock; never negative. */
export function remainingMs(deadline: string, now = serverNow()): number {
  return Math.max(0, Date.parse(deadline) - now);
}

/** "9:58", or "1:02:03" past an hour, or "2d 03:04:05" past a day. */
export function formatRemaining(ms: number): string {
  const total = Math.ceil(ms / 1000);
  const d = Math.floor(total / 86400);
  const h = Math.floor((total % 86400) / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const pad = (n: number) => String(n).padStart(2, '0');
  if (d > 0) return `${d}d ${pad(h)}:${pad(m)}:${pad(s)}`;
  if (h > 0) return `${h}:${pad(m)}:${pad(s)}`;
  return `${m}:${pad(s)}`;
}

export function _resetClockForTests(): void {
  anchorServerMs = null;
  anchorLocalMs = 0;
}
