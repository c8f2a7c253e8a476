// Test fakes stay out of what the packages build and ship: they live under src/test-support,
// which the build leaves out, and no built source imports them.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/service-account-kubeconfig.js';

const tracked = execFileSync('git', ['ls-files', '-z', '--', 'packages/*/src/*.ts', 'apps/*/src/*.ts'], { cwd: repoRoot, encoding: 'utf8' })
  .split('\0')
  .filter(Boolean);
const built = tracked.filter((path) => !path.endsWith('.test.ts') && !path.includes('/test-support/'));

describe('test fakes and the build output', () => {
  it.each([
    ['packages/core', 'fake-ports.ts'],
    ['apps/cli', 'fake-issuer.ts'],
  ])('%s keeps its fakes under src/test-support (%s), left out of its build', (workspace, fake) => {
    expect(tracked).toContain(`${workspace}/src/test-support/${fake}`);
    const tsconfig = readFileSync(join(repoRoot, workspace, 'tsconfig.json'), 'utf8');
    expect(tsconfig).toContain('"src/test-support/**"');
  });

  it('no fake lives outside src/test-support', () => {
    expect(built.filter((path) => /\/fake-[^/]*\.ts$/.test(path))).toEqual([]);
  });

  it('no built source imports a test-support module or declares a Fake port', () => {
    const offenders = built.filter((path) => {
      const text = readFileSync(join(repoRoot, path), 'utf8');
      return /from '[^']*test-support\//.test(text) || /export class Fake[A-Z]/.test(text);
    });
    expect(offenders).toEqual([]);
  });
});
