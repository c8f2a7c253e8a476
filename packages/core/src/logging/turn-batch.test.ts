import { setImmediate as nextTurn } from 'node:timers/promises';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { turnBatchedDestination } from './turn-batch.js';

function sink() {
  const writes: string[] = [];
  return { writes, write: (text: string) => writes.push(text) };
}

describe('turnBatchedDestination', () => {
  it('writes the lines of one turn in one write, at the end of that turn', async () => {
    const out = sink();
    const logger = pino({ base: null, timestamp: false }, turnBatchedDestination(out));
    for (let i = 0; i < 3; i++) logger.info({ i }, 'request');
    expect(out.writes).toEqual([]);
    await nextTurn();
    expect(out.writes).toHaveLength(1);
    expect(out.writes[0]?.trim().split('\n').map((line) => JSON.parse(line).i)).toEqual([0, 1, 2]);
  });

  it('lets a lone line go by the next turn, and each later turn in its own write', async () => {
    const out = sink();
    const logger = pino({ base: null, timestamp: false }, turnBatchedDestination(out));
    logger.info('started');
    await nextTurn();
    logger.info('later');
    await nextTurn();
    expect(out.writes.map((text) => JSON.parse(text).msg)).toEqual(['started', 'later']);
  });

  it('writes what is gathered at once on flush (logger.flush, and the process exit)', () => {
    const out = sink();
    const logger = pino({ base: null, timestamp: false }, turnBatchedDestination(out));
    logger.info('stopped');
    logger.flush();
    expect(out.writes.map((text) => JSON.parse(text).msg)).toEqual(['stopped']);
  });
});
