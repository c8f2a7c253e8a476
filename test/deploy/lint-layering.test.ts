// The layering rule of biome.jsonc (vendor clients only in @kup/adapters, the API on @kup/core
// alone, apps off each other, core free of vendors and apps) catches what it claims to: a probe
// tree shaped like this repository, one import per file, linted with the repository's config.
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/service-account-kubeconfig.js';

const VENDORS = ['@kubernetes/client-node', '@keycloak/keycloak-admin-client', 'undici'];

/** [file the import sits in, what it imports] the rule must refuse. */
const forbidden: Array<[string, string]> = [
  ...VENDORS.map((v): [string, string] => ['apps/api/src/routes/probe.ts', v]),
  ['apps/api/src/probe.ts', '@kup/adapters'],
  ['apps/api/src/probe.ts', '@kup/worker'],
  ['apps/api/src/probe.ts', '@kup/cli'],
  ['apps/api/src/probe.ts', '@kubernetes/client-node/dist/gen/index.js'],
  ['apps/api/src/probe.ts', '../../worker/src/worker.js'],
  ['apps/api/src/probe.ts', '../../../packages/adapters/src/index.js'],
  ['apps/api/src/probe.test.ts', '@kup/adapters'],
  ['apps/api/test/probe.ts', '@kup/adapters'],
  ...VENDORS.map((v): [string, string] => ['apps/worker/src/probe.ts', v]),
  ['apps/worker/src/probe.ts', '@kup/api'],
  ['apps/worker/src/probe.ts', '@kup/cli'],
  ['apps/worker/src/probe.ts', '../../api/src/app.js'],
  ['apps/cli/src/probe.ts', '@kubernetes/client-node'],
  ['apps/cli/src/probe.ts', '@keycloak/keycloak-admin-client'],
  ['apps/cli/src/probe.ts', '@kup/api'],
  ['apps/cli/src/probe.ts', '@kup/worker'],
  ...VENDORS.map((v): [string, string] => ['packages/core/src/domain/probe.ts', v]),
  ['packages/core/src/probe.ts', '@kup/adapters'],
  ['packages/core/src/probe.ts', '@kup/api'],
  ['packages/core/src/probe.ts', '@kup/worker'],
  ['packages/core/src/probe.ts', '../../../apps/api/src/app.js'],
  ['packages/core/src/probe.ts', '../../adapters/src/index.js'],
];

/** Imports the rule must let through (else it would be switched off rather than obeyed). */
const allowed: Array<[string, string]> = [
  ...VENDORS.map((v): [string, string] => ['packages/adapters/src/probe.ts', v]),
  ['packages/adapters/src/probe.ts', '@kup/core'],
  ['apps/api/src/probe.ts', '@kup/core'],
  ['apps/api/src/probe.ts', 'fastify'],
  ['apps/api/src/probe.ts', './routes/index.js'],
  ['apps/worker/src/probe.ts', '@kup/adapters'],
  ['apps/worker/src/probe.ts', '@kup/core'],
  // The CLI calls this service's own API over undici; that is its transport, not a vendor client.
  ['apps/cli/src/probe.ts', 'undici'],
  ['apps/cli/src/probe.ts', '@kup/adapters'],
  ['packages/core/src/probe.ts', 'zod'],
  ['test/helpers/probe.ts', '@kubernetes/client-node'],
  ['bench/probe.ts', 'undici'],
];

const cases = [...forbidden.map((c) => ({ c, refused: true })), ...allowed.map((c) => ({ c, refused: false }))];
/** Each case in its own file, so a finding names its case. */
const fileOf = (i: number, [path]: [string, string]): string => path.replace(/\.ts$/, `-${i}.ts`).replace(/(\.test)-(\d+)\.ts$/, '-$2$1.ts');

let dir = '';
let flagged = new Set<string>();

beforeAll(async () => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), 'kup-lint-')));
  copyFileSync(join(repoRoot, 'biome.jsonc'), join(dir, 'biome.jsonc'));
  cases.forEach(({ c }, i) => {
    const file = join(dir, fileOf(i, c));
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `import * as probe from '${c[1]}';\nexport { probe };\n`);
  });
  // The GitHub reporter: one stable `::error title=<rule>,file=<path>,...` line per finding.
  const { stdout } = await promisify(execFile)(join(repoRoot, 'node_modules/.bin/biome'), ['lint', '--vcs-enabled=false', '--reporter=github', '--max-diagnostics=none', '.'], { cwd: dir }).catch(
    (error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }),
  );
  flagged = new Set(
    [...stdout.matchAll(/^::error title=lint\/style\/noRestrictedImports,file=([^,]+),/gm)].map((m) => relative(dir, m[1] ?? '')),
  );
}, 60_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('biome layering rule', () => {
  it('sees the probe tree at all (a finding for the first forbidden import)', () => {
    expect(flagged.size).toBeGreaterThan(0);
  });

  it.each(cases.map(({ c, refused }, i) => ({ i, c, refused, label: `${c[0]} importing ${c[1]}` })))('$label: refused=$refused', ({ i, c, refused }) => {
    expect(flagged.has(fileOf(i, c))).toBe(refused);
  });

  it('runs in CI: `npm test` lints before the suites', () => {
    const scripts = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.lint).toMatch(/\bbiome lint\b/);
    expect(scripts['test:all']).toMatch(/^npm run lint && /);
  });
});
