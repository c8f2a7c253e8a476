import { describe, expect, it } from 'vitest';
import { clearableDeadline } from './signals.js';

/** Polls until `check` holds or `ms` pass (a deadline, not a sleep as synchronisation). */
async function until(check: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!check() && Date.now() < end) await new Promise((resolve) => setImmediate(resolve));
  return check();
}

describe('clearableDeadline', () => {
  it('aborts with a TimeoutError once the time is up', async () => {
    const { signal } = clearableDeadline(5, undefined);
    expect(await until(() => signal.aborted, 2_000)).toBe(true);
    expect((signal.reason as DOMException).name).toBe('TimeoutError');
  });

  it('passes on the caller\'s abort, and an already aborted caller at once', () => {
    const caller = new AbortController();
    const { signal } = clearableDeadline(60_000, caller.signal);
    expect(signal.aborted).toBe(false);
    caller.abort(new Error('cancelled'));
    expect(signal.aborted).toBe(true);
    expect((signal.reason as Error).message).toBe('cancelled');
    expect(clearableDeadline(60_000, caller.signal).signal.aborted).toBe(true);
  });

  it('once cleared, neither the timer nor the caller aborts it', async () => {
    const caller = new AbortController();
    const cleared = clearableDeadline(5, caller.signal);
    const control = clearableDeadline(5, undefined);
    cleared.clear();
    // The control, made at the same time with the same timeout, shows the time has passed.
    expect(await until(() => control.signal.aborted, 2_000)).toBe(true);
    caller.abort();
    expect(cleared.signal.aborted).toBe(false);
  });
});
