// Small files are the rule the project keeps (docs/design.md): no hand-written TypeScript
// file over MAX_LINES, tests included. Generated files are named here, and only they.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/service-account-kubeconfig.js';

const MAX_LINES = 300;
/** Written by `npm run openapi:types` from the API's OpenAPI (checked by openapi-types.test.ts). */
const GENERATED = new Set(['apps/cli/src/generated/api.ts']);

const tracked = execFileSync('git', ['ls-files', '-z', '--', '*.ts'], { cwd: repoRoot, encoding: 'utf8' }).split('\0').filter(Boolean);

describe('source file size', () => {
  it('finds the tracked TypeScript files', () => {
    expect(tracked.length).toBeGreaterThan(100);
  });

  it(`keeps every hand-written .ts file at ${MAX_LINES} lines or fewer`, () => {
    const over = tracked
      .filter((path) => !GENERATED.has(path))
      .map((path) => ({ path, lines: readFileSync(join(repoRoot, path), 'utf8').split('\n').length - 1 }))
      .filter(({ lines }) => lines > MAX_LINES);
    expect(over).toEqual([]);
  });

  it('names only generated files that exist', () => {
    for (const path of GENERATED) expect(tracked).toContain(path);
  });
});
