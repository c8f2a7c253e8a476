import { describe, expect, it } from 'vitest';
import { clientKey, FailedAuthLimiter } from './auth-rate-limit.js';

describe('clientKey', () => {
  it.each([
    ['192.0.2.7', '192.0.2.7'],
    ['::ffff:192.0.2.7', '192.0.2.7'],
    ['::FFFF:192.0.2.7', '192.0.2.7'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::99', '2001:db8:1:2::/64'],
    ['2001:0db8:0001:0002:ffff::1', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['64:ff9b::192.0.2.7', '64:ff9b:0:0::/64'],
  ])('%s → %s', (address, key) => {
    expect(clientKey(address)).toBe(key);
  });

  it('puts every address of one /64 together and the next /64 apart', () => {
    expect(clientKey('2001:db8:a:b:1::')).toBe(clientKey('2001:db8:a:b:ffff:ffff:ffff:ffff'));
    expect(clientKey('2001:db8:a:b::1')).not.toBe(clientKey('2001:db8:a:c::1'));
  });
});

describe('FailedAuthLimiter without Redis', () => {
  it('counts in memory, per client, and limits over the maximum', async () => {
    const limiter = new FailedAuthLimiter({ status: 'end', eval: async () => [0, 0] }, { prefix: 'p', maxFailures: 3, timeWindowMs: 60_000 });
    const verdicts = [];
    for (let i = 0; i < 5; i += 1) verdicts.push((await limiter.fail(`2001:db8::${i}`)).limited);
    expect(verdicts).toEqual([false, false, false, true, true]);
    expect((await limiter.fail('2001:db9::1')).limited).toBe(false);
  });
});
