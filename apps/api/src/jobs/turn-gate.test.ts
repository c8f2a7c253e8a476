import { describe, expect, it } from 'vitest';
import { TurnGate } from './job-submitter.js';

describe('TurnGate', () => {
  it('lets everyone who waits in one turn through together, at its end', async () => {
    const gate = new TurnGate();
    const order: string[] = [];
    const first = gate.passed().then(() => order.push('first'));
    const second = gate.passed().then(() => order.push('second'));
    await Promise.resolve();
    expect(order).toEqual([]); // not before the turn ends
    await Promise.all([first, second]);
    expect(order).toEqual(['first', 'second']);
  });

  it('waits for the end of the turn again after that', async () => {
    const gate = new TurnGate();
    const once = gate.passed();
    await once;
    const again = gate.passed();
    expect(again).not.toBe(once);
    await expect(again).resolves.toBeUndefined();
  });

  it('keeps the stream corked while the waiters write, until the reads they send on the next tick', async () => {
    const events: string[] = [];
    const gate = new TurnGate(() => ({ cork: () => events.push('cork'), uncork: () => events.push('uncork') }));
    await Promise.all(
      [1, 2].map(async (n) => {
        await gate.passed();
        events.push(`add ${n}`);
        process.nextTick(() => events.push(`read ${n}`));
      }),
    );
    await new Promise((resolve) => setImmediate(resolve));
    expect(events).toEqual(['cork', 'add 1', 'add 2', 'read 1', 'read 2', 'uncork']);
  });
});
