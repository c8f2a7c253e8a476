import { describe, expect, it } from 'vitest';
import { UpstreamError } from '@kup/core';
import { checkTraineeClusterRole } from './trainee-role-check.js';

const logger = () => {
  const lines: { level: string; message: string }[] = [];
  const at = (level: string) => (_fields: object, message: string) => void lines.push({ level, message });
  return { lines, log: { info: at('info'), warn: at('warn'), error: at('error') } };
};

describe('checkTraineeClusterRole', () => {
  it('finds the role', async () => {
    const { lines, log } = logger();
    const asked: unknown[] = [];
    const found = await checkTraineeClusterRole({ get: async (ref) => (asked.push(ref), { metadata: { name: 'r' } }) }, 'r', log as never);
    expect(found).toBe(true);
    expect(asked).toEqual([{ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', name: 'r' }]);
    expect(lines.map((l) => l.level)).toEqual(['info']);
  });

  it('says loudly when it is missing, naming the component', async () => {
    const { lines, log } = logger();
    expect(await checkTraineeClusterRole({ get: async () => undefined }, 'read-write-all-except-resourcequotas', log as never)).toBe(false);
    expect(lines).toEqual([{ level: 'error', message: expect.stringMatching(/read-write-all-except-resourcequotas does not exist.*components\/trainee-clusterrole/) }]);
  });

  it('never throws when the check itself fails', async () => {
    const { lines, log } = logger();
    const get = async () => {
      throw new UpstreamError('kubernetes', 'get clusterrole', 403);
    };
    expect(await checkTraineeClusterRole({ get }, 'r', log as never)).toBeUndefined();
    expect(lines.map((l) => l.level)).toEqual(['warn']);
  });
});
