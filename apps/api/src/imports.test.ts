import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('.', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

describe('api imports', () => {
  it('takes the core from @kup/core/contract only, never the root that loads the Kubernetes and Keycloak clients', () => {
    const files = sources(SRC);
    expect(files.length).toBeGreaterThan(10);
    const offenders = files.filter((file) => /from '@kup\/core(?:\/(?!contract')[^']*)?'/.test(readFileSync(file, 'utf8')));
    expect(offenders).toEqual([]);
    expect(files.some((file) => readFileSync(file, 'utf8').includes("from '@kup/core/contract'"))).toBe(true);
  });
});
