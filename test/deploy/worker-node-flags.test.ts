// The worker's Node flags have one source, k8s/base/worker.yaml's args: compose, the npm
// script and the bench must start the worker with exactly those, or the bench's memory
// figures would describe a worker nobody deploys.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { WORKER_ENTRY, shippedWorkerNodeFlags } from '../../bench/worker-node-flags.js';
import { repoRoot } from '../helpers/service-account-kubeconfig.js';

const flags = shippedWorkerNodeFlags(repoRoot);

describe('worker node flags', () => {
  it('are read from the manifest: the young generation pinned', () => {
    expect(flags).toEqual(['--max-semi-space-size=8']);
  });

  it('are the same in docker-compose.yml and npm run start:worker', () => {
    const compose = parse(readFileSync(join(repoRoot, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: { worker: { command: string[] } } };
    expect(compose.services.worker.command).toEqual(['node', ...flags, WORKER_ENTRY]);
    const scripts = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect(scripts['start:worker']).toBe(['node', ...flags, WORKER_ENTRY].join(' '));
  });

  it('are documented with the same value', () => {
    expect(readFileSync(join(repoRoot, 'docs/operations.md'), 'utf8')).toContain(`node ${flags.join(' ')} ${WORKER_ENTRY}`);
  });
});
