// Each workspace declares what its shipped code imports: the image installs per the
// package.jsons, and hoisting in the dev checkout hides a missing declaration.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/service-account-kubeconfig.js';

interface Manifest { name: string; dependencies?: Record<string, string>; devDependencies?: Record<string, string>; peerDependencies?: Record<string, string> }

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    // Test support is not shipped (the build leaves it out: build-output.test.ts).
    if (statSync(path).isDirectory()) return name === 'test-support' ? [] : sources(path);
    return /\.tsx?$/.test(name) && !/\.test\.tsx?$/.test(name) ? [path] : [];
  });
}

const packageOf = (specifier: string): string => specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');

const workspaces = ['apps', 'packages', 'tools'].flatMap((group) =>
  readdirSync(join(repoRoot, group)).map((name) => join(group, name)).filter((dir) => statSync(join(repoRoot, dir, 'src'), { throwIfNoEntry: false })?.isDirectory()),
);

describe('workspace package.jsons', () => {
  it.each(workspaces)('%s declares every package its src imports', (dir) => {
    const manifest = JSON.parse(readFileSync(join(repoRoot, dir, 'package.json'), 'utf8')) as Manifest;
    const declared = new Set([manifest.name, ...Object.keys({ ...manifest.dependencies, ...manifest.devDependencies, ...manifest.peerDependencies })]);
    const missing = new Set<string>();
    for (const file of sources(join(repoRoot, dir, 'src'))) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|^import\s+)'([^'./][^']*)'/gm)) {
        const name = packageOf(m[1] ?? '');
        if (name.startsWith('node:') || builtinModules.includes(name) || declared.has(name)) continue;
        missing.add(`${name} (${file.slice(repoRoot.length + 1)})`);
      }
    }
    expect([...missing]).toEqual([]);
  });
});
