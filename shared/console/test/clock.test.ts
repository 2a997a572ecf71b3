import { beforeEach, describe, expect, it } from 'vitest';
import { _resetClockForTests, formatRemaining, remainingMs, serverNow, syncServerClock } from '../src/clock';

describe('server clock', () => {
  beforeEach(() => _resetClockForTests());
  it('is the Date header plus the time elapsed since it arrived', () => {
    syncServerClock('Thu, 26 Nov 2026 08:00:00 GMT', 1000);
    // Whole seconds: the middle of [08:00:00, 08:00:01).
    expect(serverNow(1000)).toBe(Date.parse('2026-11-26T08:00:00.500Z'));
    expect(serverNow(4500)).toBe(Date.parse('2026-11-26T08:00:04Z'));
  });
  it('narrows the estimate with every agreeing response', () => {
    syncServerClock('Thu, 26 Nov 2026 08:00:00 GMT', 1000); // offset in [D-1000, D)
    syncServerClock('Thu, 26 Nov 2026 08:00:01 GMT', 1800); // offset in [D-800, D+200): both, [D-800, D)
    expect(serverNow(1800)).toBe(Date.parse('2026-11-26T08:00:01.400Z'));
  });
  it('follows a clock advanced by the server', () => {
    syncServerClock('Thu, 26 Nov 2026 08:00:00 GMT', 1000);
    syncServerClock('Thu, 26 Nov 2026 08:03:00 GMT', 2000);
    expect(serverNow(2000)).toBe(Date.parse('2026-11-26T08:03:00.500Z'));
  });
  it('counts down to pay_by by the server clock, not the browser clock', () => {
    syncServerClock('Thu, 26 Nov 2026 08:00:00 GMT', 0);
    expect(remainingMs('2026-11-26T08:10:00Z', serverNow(0))).toBe(599_500);
    expect(remainingMs('2026-11-26T07:59:00Z', serverNow(0))).toBe(0);
  });
  it('ignores a missing or bad header', () => {
    syncServerClock(null);
    syncServerClock('nonsense');
    expect(Math.abs(serverNow() - Date.now())).toBeLessThan(50);
  });
  it('formats what is left', () => {
    expect(formatRemaining(600_000)).toBe('10:00');
    expect(formatRemaining(59_600)).toBe('1:00');
    expect(formatRemaining(59_400)).toBe('0:59');
    expect(formatRemaining(3_723_000)).toBe('1:02:03');
    expect(formatRemaining(2 * 86_400_000 + 3_723_000)).toBe('2d 01:02:03');
  });
});
