import { describe, expect, it } from 'vitest';
import { purgeCountEntries } from '@kup/core';
import { occupiedByQuota, quotaSaysEmpty, type CountableType, type QuotaCounts } from './kubernetes-quota-counts.js';

const synced = (used: Record<string, string>): QuotaCounts => ({ specHard: purgeCountEntries(), statusHard: purgeCountEntries(), used });
const configmaps: CountableType = { key: '/api/v1/configmaps', group: '', resource: 'configmaps' };
const secrets: CountableType = { key: '/api/v1/secrets', group: '', resource: 'secrets' };
const deployments: CountableType = { key: '/apis/apps/v1/deployments', group: 'apps', resource: 'deployments' };
const widgets: CountableType = { key: '/apis/example.com/v1/widgets', group: 'example.com', resource: 'widgets' };

describe('quotaSaysEmpty', () => {
  it('trusts a synced count of zero', () => {
    expect(quotaSaysEmpty(synced({ 'count/secrets': '0' }), 'count/secrets')).toBe(true);
  });

  it('any object of the trainee is a reason to empty the type', () => {
    expect(quotaSaysEmpty(synced({ 'count/secrets': '1' }), 'count/secrets')).toBe(false);
    // One ConfigMap may be the cluster's kube-root-ca.crt, or a trainee's beside a deleted one.
    expect(quotaSaysEmpty(synced({ 'count/configmaps': '1' }), 'count/configmaps')).toBe(false);
    expect(quotaSaysEmpty(synced({ 'count/secrets': '1k' }), 'count/secrets')).toBe(false);
  });

  it('anything short of a synced count is not proof', () => {
    expect(quotaSaysEmpty(undefined, 'count/secrets')).toBe(false);
    // No `used` yet (quota controller not done), a spec not yet synced, a quota fitted before counts.
    expect(quotaSaysEmpty(synced({}), 'count/secrets')).toBe(false);
    expect(quotaSaysEmpty({ ...synced({ 'count/secrets': '0' }), statusHard: {} }, 'count/secrets')).toBe(false);
    expect(quotaSaysEmpty({ ...synced({ 'count/secrets': '0' }), statusHard: { 'count/secrets': '10' } }, 'count/secrets')).toBe(false);
    expect(quotaSaysEmpty({ specHard: { pods: '10' }, statusHard: { pods: '10' }, used: { pods: '0' } }, 'count/secrets')).toBe(false);
    expect(quotaSaysEmpty(synced({ 'count/secrets': '500m' }), 'count/secrets')).toBe(false);
    // A count entry the plan does not make (someone else's quota key) is not trusted either.
    expect(quotaSaysEmpty({ specHard: { 'count/widgets.example.com': '9' }, statusHard: { 'count/widgets.example.com': '9' }, used: { 'count/widgets.example.com': '0' } }, 'count/widgets.example.com')).toBe(false);
  });
});

describe('occupiedByQuota', () => {
  it('marks each namespace by its own counts, and leaves uncounted types to be emptied everywhere', () => {
    const occupied = new Map<string, Set<string>>([['ana', new Set(['/api/v1/pods'])]]);
    const counts = new Map<string, QuotaCounts>([
      ['ana', synced({ 'count/configmaps': '3', 'count/secrets': '0', 'count/deployments.apps': '0' })],
      ['bob', synced({ 'count/configmaps': '0', 'count/secrets': '0', 'count/deployments.apps': '1' })],
    ]);
    const split = occupiedByQuota([configmaps, secrets, deployments, widgets], counts, ['ana', 'bob', 'old'], occupied);
    expect(split).toEqual({ counted: ['/api/v1/configmaps', '/api/v1/secrets', '/apis/apps/v1/deployments'], unlisted: ['/apis/example.com/v1/widgets'] });
    expect([...(occupied.get('ana') ?? [])].sort()).toEqual(['/api/v1/configmaps', '/api/v1/pods']);
    expect([...(occupied.get('bob') ?? [])]).toEqual(['/apis/apps/v1/deployments']);
    // No playground quota: every counted type.
    expect([...(occupied.get('old') ?? [])].sort()).toEqual(['/api/v1/configmaps', '/api/v1/secrets', '/apis/apps/v1/deployments']);
  });
});
