// No Docker engine here to build the image, so the Dockerfile is linted by reading it:
// the properties operators rely on, and that it stays in step with the workspaces.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/service-account-kubeconfig.js';

interface Stage {
  from: string;
  name: string | undefined;
  lines: string[];
}

/** Instructions (continuation lines joined, comments dropped), grouped by build stage. */
function stages(dockerfile: string): Stage[] {
  const instructions = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const result: Stage[] = [];
  for (const line of instructions) {
    const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) result.push({ from: from[1] ?? '', name: from[2], lines: [] });
    else result.at(-1)?.lines.push(line);
  }
  return result;
}

const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
const all = stages(dockerfile);
const final = all.at(-1) as Stage;
const packageJson = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { workspaces: string[] };
const workspaces = packageJson.workspaces.flatMap((pattern) => {
  const dir = pattern.replace(/\/\*$/, '');
  return readdirSync(join(repoRoot, dir)).map((name) => `${dir}/${name}`).filter((w) => existsSync(join(repoRoot, w, 'package.json')));
});

describe('Dockerfile', () => {
  it('is multi-stage, on the Node LTS major the rest of the project uses', () => {
    expect(all.length).toBeGreaterThanOrEqual(2);
    // An exact release pinned by digest: node:24.21.0-bookworm-slim@sha256:...
    const image = /^ARG NODE_IMAGE=node:((\d+)\.\d+\.\d+)-(?:bookworm-slim|alpine)@sha256:[0-9a-f]{64}$/m.exec(dockerfile);
    expect(image, 'ARG NODE_IMAGE=node:<x.y.z>-bookworm-slim').not.toBeNull();
    const major = image?.[2];
    expect(major).toBe('24');
    // One major everywhere: .nvmrc, engines, and the Node that scripts/ensure-node.sh installs.
    expect(readFileSync(join(repoRoot, '.nvmrc'), 'utf8').trim()).toBe(major);
    const engines = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
    expect(engines).toBe(`>=${major}`);
    const ensureNode = readFileSync(join(repoRoot, 'scripts', 'ensure-node.sh'), 'utf8');
    expect(ensureNode).toMatch(new RegExp(`^KUP_NODE_VERSION=${image?.[1]}$`, 'm'));
  });

  it('runs as a numeric non-root user in the final stage', () => {
    const users = final.lines.filter((l) => /^USER\s/i.test(l));
    expect(users).toHaveLength(1);
    const user = users[0]?.split(/\s+/)[1] ?? '';
    expect(user).toMatch(/^[1-9][0-9]*(:[1-9][0-9]*)?$/);
    expect(user.startsWith('10001')).toBe(true);
  });

  it('installs only production dependencies into the final image', () => {
    const runs = final.lines.filter((l) => /^RUN\s/i.test(l)).join('\n');
    expect(runs).not.toMatch(/npm (install|ci|i)\b/);
    // The stage whose /app (package.jsons + node_modules) the final stage copies whole.
    const deps = all.find((s) => final.lines.some((l) => l.startsWith(`COPY --from=${s.name} `) && l.endsWith(' /app ./')));
    expect(deps?.name, 'the stage node_modules come from').toBeDefined();
    expect(deps?.lines.join('\n')).toMatch(/npm ci [^\n]*--omit=dev/);
    expect(final.lines).toContain('ENV NODE_ENV=production');
  });

  it('starts the api by default under tini, and ships api, worker and cli', () => {
    // With the api's heap flags, which node-flags.test.ts checks against its manifest.
    expect(final.lines.some((l) => /^CMD \["node", ("--[a-z-]+=\d+", )*"apps\/api\/dist\/main.js"\]$/.test(l))).toBe(true);
    expect(final.lines.some((l) => /^ENTRYPOINT \["\/usr\/bin\/tini", "--"\]$/.test(l))).toBe(true);
    for (const dist of ['packages/core/dist', 'packages/adapters/dist', 'apps/api/dist', 'apps/worker/dist', 'apps/cli/dist']) {
      expect(final.lines.some((l) => l.startsWith('COPY --from=build') && l.endsWith(` ${dist}`)), dist).toBe(true);
    }
    expect(final.lines.some((l) => l.includes('EXPOSE') && l.includes('3000') && l.includes('9464'))).toBe(true);
  });

  it('copies every workspace package.json before npm ci (else the lockfile does not match)', () => {
    for (const stage of all.filter((s) => s.lines.some((l) => /npm ci/.test(l)))) {
      for (const w of workspaces) {
        expect(stage.lines, `${stage.name}: ${w}`).toContain(`COPY ${w}/package.json ${w}/`);
      }
    }
  });
});

describe('.dockerignore', () => {
  it('keeps dependencies, build output, local state and secrets out of the build context', () => {
    const ignored = readFileSync(join(repoRoot, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
    for (const entry of ['**/node_modules', '**/dist', '.git', '.stack', '.env']) expect(ignored).toContain(entry);
  });
});
