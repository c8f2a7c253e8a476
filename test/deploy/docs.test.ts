// docs/operations.md documents every setting the apps read: a new env var without a row fails here.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { apiEnv, workerEnv } from '@kup/core';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/service-account-kubeconfig.js';

const doc = readFileSync(join(repoRoot, 'docs/operations.md'), 'utf8');
const rows = new Map([...doc.matchAll(/^\| `([A-Z0-9_]+)` \| (api|worker|both) \|/gm)].map((m) => [m[1] ?? '', m[2] ?? '']));

describe('docs/operations.md', () => {
  it('has one configuration row per env var, naming the app that reads it', () => {
    const expected = new Map<string, string>();
    for (const key of Object.keys(apiEnv.shape)) expected.set(key, key in workerEnv.shape ? 'both' : 'api');
    for (const key of Object.keys(workerEnv.shape)) if (!expected.has(key)) expected.set(key, 'worker');
    expect(Object.fromEntries(rows)).toEqual(Object.fromEntries(expected));
  });

  it('covers deploy, configure, rotation, scaling, upgrades and alerting', () => {
    for (const heading of ['## Deploy', '## Configure', '## Rotate API tokens', '## Rotate the encryption key',
      '## Scale workers', '## Upgrade without duplicate schedules', '## What to alert on']) {
      expect(doc).toContain(heading);
    }
  });
});
