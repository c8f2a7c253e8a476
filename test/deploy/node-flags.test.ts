// The api's and the worker's Node flags have one source, the `args` of their containers in
// k8s/base: docker-compose.yml, the Dockerfile, the npm scripts and the bench must start them
// with exactly those, or the bench's memory figures would describe processes nobody deploys.
// The flags pin V8's heap, which Node would otherwise size from the memory it sees (the pod's
// limit, or the whole host's RAM where there is none): the pinned heap must fit the limit.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type Component, ENTRIES, MALLOC_ENV, shippedContainer, shippedMallocEnv, shippedNodeFlags } from '../../bench/node-flags.js';
import { repoRoot } from '../helpers/service-account-kubeconfig.js';

const components: Component[] = ['api', 'worker'];
const read = (path: string) => readFileSync(join(repoRoot, path), 'utf8');
const command = (component: Component) => ['node', ...shippedNodeFlags(repoRoot, component), ENTRIES[component]];

/** A flag's value in MiB (`--max-old-space-size=160` → 192). */
function mib(flags: string[], name: string): number {
  const value = flags.find((flag) => flag.startsWith(`--${name}=`))?.split('=')[1];
  expect(value, `--${name}`).toMatch(/^\d+$/);
  return Number(value);
}

function limitMib(quantity: string | undefined): number {
  const match = /^(\d+)(Mi|Gi)$/.exec(quantity ?? '');
  if (!match) throw new Error(`memory limit ${quantity} is not in Mi or Gi`);
  return Number(match[1]) * (match[2] === 'Gi' ? 1024 : 1);
}

describe('node flags', () => {
  it.each(components)('%s: old and young generation pinned, and the heap fits the memory limit with room for code and buffers', (component) => {
    const flags = shippedNodeFlags(repoRoot, component);
    const oldSpace = mib(flags, 'max-old-space-size');
    const semiSpace = mib(flags, 'max-semi-space-size');
    // The young generation takes three semi-spaces at most (two, plus the one being promoted into).
    const heap = oldSpace + 3 * semiSpace;
    const limit = limitMib(shippedContainer(repoRoot, component).resources?.limits?.memory);
    expect(heap + 64, `${component}: heap ${heap} MiB + 64 MiB of code and buffers within ${limit}Mi`).toBeLessThanOrEqual(limit);
  });

  it('are the same in docker-compose.yml, the Dockerfile and the npm start scripts', () => {
    const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, { command?: string[] }> };
    expect(compose.services.worker?.command).toEqual(command('worker'));
    // The api service runs the image's default command.
    expect(compose.services.api?.command).toBeUndefined();
    expect(read('Dockerfile').split('\n')).toContain(`CMD ${JSON.stringify(command('api')).replaceAll('","', '", "')}`);
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    // The scripts also set their malloc settings (next test).
    expect(scripts['start:worker']?.endsWith(` ${command('worker').join(' ')}`)).toBe(true);
    expect(scripts['start:api']?.endsWith(` ${command('api').join(' ')}`)).toBe(true);
  });

  it('give api and worker the malloc settings of their manifests in docker-compose.yml and the npm start scripts', () => {
    const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, { environment?: Record<string, string> }> };
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    for (const component of components) {
      const malloc = shippedMallocEnv(repoRoot, component);
      expect(Object.keys(malloc).sort(), component).toEqual([...MALLOC_ENV].sort());
      expect(compose.services[component]?.environment, component).toMatchObject(malloc);
      const assignments = Object.entries(malloc).map(([name, value]) => `${name}=${value}`);
      expect(scripts[`start:${component}`], component).toBe([...assignments, ...command(component)].join(' '));
    }
  });

  it('are documented with the same values', () => {
    const operations = read('docs/operations.md');
    for (const component of components) expect(operations).toContain(command(component).join(' '));
  });
});
