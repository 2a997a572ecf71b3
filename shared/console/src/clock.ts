// Server time (E1): every deadline is the server's. The server's clock may be advanced in
// development, so "now" is the `Date` header of the last response plus the time elapsed
// since it arrived (monotonic), never the browser's wall clock.
// The header has whole seconds: one response says the server clock was in [D, D+1s) when it
// arrived. The offset (server - local) is kept as an interval, narrowed by every response
// that agrees with it and reset by one that does not (the dev clock was advanced).
let lo: number | null = null;
let hi = 0;

const monotonic = (): number =>
  typeof performance !== 'undefined' ? performance.now() : Date.now();

export function syncServerClock(dateHeader: string | null, localMs = monotonic()): void {
  if (!dateHeader) return;
  const ms = Date.parse(dateHeader);
  if (Number.isNaN(ms)) return;
  const l = ms - localMs;
  const u = ms + 1000 - localMs;
  if (lo === null || u <= lo || l >= hi) {
    lo = l;
    hi = u;
  } else {
    lo = Math.max(lo, l);
    hi = Math.min(hi, u);
  }
}

export function serverNow(localMs = monotonic()): number {
  if (lo === null) return Date.now();
  return localMs + (lo + hi) / 2;
}

/** Milliseconds left until `deadline` (RFC 3339) by the server's clock; never negative. */
export function remainingMs(deadline: string, now = serverNow()): number {
  return Math.max(0, Date.parse(deadline) - now);
}

/** "9:58", or "1:02:03" past an hour, or "2d 03:04:05" past a day. */
export function formatRemaining(ms: number): string {
  const total = Math.round(ms / 1000);
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
  lo = null;
  hi = 0;
}
