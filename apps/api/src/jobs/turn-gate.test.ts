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
});
