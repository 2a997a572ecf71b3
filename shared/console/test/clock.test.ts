import { beforeEach, describe, expect, it } from 'vitest';
import { _resetClockForTests, formatRemaining, remainingMs, serverNow, syncServerClock } from '../src/clock';

describe('server clock', () => {
  beforeEach(() => _resetClockForTests());
  it('is the Date header plus the time elapsed since it arrived', () => {
    syncServerClock('Thu, 26 Nov 2026 08:00:00 GMT', 1000);
    expect(serverNow(1000)).toBe(Date.parse('2026-11-26T08:00:00Z'));
    expect(serverNow(4500)).toBe(Date.parse('2026-11-26T08:00:03.500Z'));
  });
  it('counts down to pay_by by the server clock, not the browser clock', () => {
    syncServerClock('Thu, 26 Nov 2026 08:00:00 GMT', 0);
    expect(remainingMs('2026-11-26T08:10:00Z', serverNow(0))).toBe(600_000);
    expect(remainingMs('2026-11-26T07:59:00Z', serverNow(0))).toBe(0);
  });
  it('ignores a missing or bad header', () => {
    syncServerClock(null);
    syncServerClock('nonsense');
    expect(Math.abs(serverNow() - Date.now())).toBeLessThan(50);
  });
  it('formats what is left', () => {
    expect(formatRemaining(600_000)).toBe('10:00');
    expect(formatRemaining(59_001)).toBe('1:00');
    expect(formatRemaining(3_723_000)).toBe('1:02:03');
    expect(formatRemaining(2 * 86_400_000 + 3_723_000)).toBe('2d 01:02:03');
  });
});
