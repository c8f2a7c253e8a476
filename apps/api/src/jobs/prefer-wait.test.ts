import { describe, expect, it } from 'vitest';
import { parsePreferWait } from './prefer-wait.js';

describe('parsePreferWait', () => {
  it.each<[string | string[] | undefined, number | undefined]>([
    ['wait=10', 10],
    ['WAIT = 10', 10],
    ['wait="7"', 7],
    ['respond-async, wait=15', 15],
    ['handling=lenient; foo=bar, wait=3;x=y', 3],
    [['return=minimal', 'wait=5'], 5],
    ['wait=600', 60],
    ['wait=0', undefined],
    ['wait=-1', undefined],
    ['wait=abc', undefined],
    ['wait', undefined],
    ['waiting=5', undefined],
    ['respond-async', undefined],
    ['', undefined],
    [undefined, undefined],
  ])('%j → %j', (header, expected) => {
    expect(parsePreferWait(header, 60)).toBe(expected);
  });

  it('never waits when the cap is 0', () => {
    expect(parsePreferWait('wait=10', 0)).toBeUndefined();
  });
});
