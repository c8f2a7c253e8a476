// The API keeps its memory low by never loading the Kubernetes, Keycloak and Grafana clients
// (about 120 MB resident it would never use): it depends on @kup/core alone, and @kup/core
// holds no adapter. These tests check both halves: what the API's sources import, and what
// loading @kup/core actually pulls in at run time (not just its own import lines).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('.', import.meta.url));
const API = join(SRC, '..');

/** The vendor clients only @kup/adapters may load. */
const VENDOR_CLIENTS = ['@kubernetes/client-node', '@keycloak/keycloak-admin-client', 'undici'];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

/**
 * The npm packages a fresh Node process loads to import `specifier` from the API's directory,
 * resolved as the tests resolve workspaces (TypeScript sources through tsx). A resolve hook
 * records every module URL, so packages loaded by packages count too.
 */
function packagesLoadedBy(specifier: string): string[] {
  const probe = `
    import { registerHooks } from 'node:module';
    const urls = new Set();
    registerHooks({ resolve(spec, context, next) { const result = next(spec, context); urls.add(result.url); return result; } });
    await import(${JSON.stringify(specifier)});
    const names = [...urls].flatMap((url) => /\\/node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(url)?.[1] ?? []);
    process.stdout.write(JSON.stringify([...new Set(names)]));
  `;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--conditions=source', '--input-type=module', '-e', probe], {
    cwd: API,
    encoding: 'utf8',
  });
  return JSON.parse(out) as string[];
}

describe('api imports', () => {
  it('takes the core from @kup/core itself: no sub-entry, no adapters', () => {
    const files = sources(SRC);
    expect(files.length).toBeGreaterThan(10);
    const offenders = files.filter((file) => /from '@kup\/(?:core\/[^']*|adapters(?:\/[^']*)?)'/.test(readFileSync(file, 'utf8')));
    expect(offenders).toEqual([]);
    expect(files.some((file) => readFileSync(file, 'utf8').includes("from '@kup/core'"))).toBe(true);
    const manifest = JSON.parse(readFileSync(join(API, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(Object.keys(manifest.dependencies)).toContain('@kup/core');
    expect(Object.keys(manifest.dependencies)).not.toContain('@kup/adapters');
  });

  it('loads no vendor client when it loads @kup/core', () => {
    const loaded = packagesLoadedBy('@kup/core');
    // The probe sees the core's own dependencies, so an empty answer cannot pass for a clean one.
    expect(loaded).toEqual(expect.arrayContaining(['zod', 'ioredis', 'pino']));
    expect(loaded.filter((name) => VENDOR_CLIENTS.includes(name))).toEqual([]);
  }, 30_000);

  it('(the probe does see them where they are: @kup/adapters loads every vendor client)', () => {
    expect(packagesLoadedBy('@kup/adapters')).toEqual(expect.arrayContaining(VENDOR_CLIENTS));
  }, 30_000);
});
