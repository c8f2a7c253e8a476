// `provisioner kubeconfig <username>` against a stand-in API serving the route's contract:
// YAML on 200, the API's {message} otherwise.
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../cli.js';
import type { CliIo } from '../io.js';

const YAML = 'apiVersion: v1\nkind: Config\ncurrent-context: jean-dupont@k8s\n';
const seen: { path: string; accept: string | undefined; auth: string | undefined }[] = [];
let server: Server;
let url = '';

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push({ path: req.url ?? '', accept: req.headers.accept, auth: req.headers.authorization });
    if (req.url === '/trainees/jean-dupont/kubeconfig') return res.writeHead(200, { 'content-type': 'application/yaml' }).end(YAML);
    res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ message: 'Trainee not found', code: 'NOT_FOUND' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function io() {
  const out: string[] = [];
  const err: string[] = [];
  const value: CliIo = { out: (t) => void out.push(t), err: (t) => void err.push(t), env: { PROVISIONER_URL: url, PROVISIONER_TOKEN: 'tok-0123456789abcdef' }, interactive: false, confirm: async () => false };
  return { io: value, out, err };
}

describe('provisioner kubeconfig', () => {
  it('prints the YAML the API answers, asking for YAML with the token', async () => {
    const c = io();
    expect(await run(['kubeconfig', 'jean-dupont'], c.io)).toBe(0);
    expect(c.out.join('\n')).toBe(YAML.trimEnd());
    expect(seen.at(-1)).toEqual({ path: '/trainees/jean-dupont/kubeconfig', accept: 'application/yaml', auth: 'Bearer tok-0123456789abcdef' });
  });

  it('writes it to -o file, mode 0600', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'kup-kc-')), 'config');
    const c = io();
    expect(await run(['kubeconfig', 'jean-dupont', '-o', file], c.io)).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(YAML);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(c.out).toEqual([]);
    expect(c.err.join('\n')).toContain(`export KUBECONFIG=${file}`);
  });

  it("says the API's reason and exits 1 for an unknown trainee; the username is escaped in the path", async () => {
    const c = io();
    expect(await run(['kubeconfig', 'no/such'], c.io)).toBe(1);
    expect(c.err.join('\n')).toBe('error: kubeconfig of no/such: Trainee not found');
    expect(seen.at(-1)?.path).toBe('/trainees/no%2Fsuch/kubeconfig');
  });

  it('needs exactly one username', async () => {
    const c = io();
    expect(await run(['kubeconfig'], c.io)).toBe(2);
    expect(c.err.join('\n')).toMatch(/kubeconfig takes 1 argument/);
  });
});
