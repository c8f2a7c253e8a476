// docker-compose.yml (the laptop path) checked by reading it, and against the Compose
// Specification everywhere (CI has no Docker engine); `docker compose config` runs too where an
// engine with the compose plugin answers.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { apiEnv, workerEnv } from '@kup/core';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { realmRepresentation } from '../../tools/stack/src/keycloak.js';
import { repoRoot } from '../helpers/service-account-kubeconfig.js';
import { MALLOC_ENV } from '../../bench/node-flags.js';

type Service = {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  environment?: Record<string, string>;
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  volumes?: string[];
  read_only?: boolean;
  privileged?: boolean;
};

type Compose = { services: Record<string, Service>; volumes?: Record<string, unknown> };
const compose = parse(readFileSync(join(repoRoot, 'docker-compose.yml'), 'utf8'), { merge: true }) as Compose;
const services = compose.services;
const service = (name: string): Service => {
  const s = services[name];
  if (!s) throw new Error(`docker-compose.yml has no service ${name}`);
  return s;
};
const envExample = Object.fromEntries(readFileSync(join(repoRoot, '.env.example'), 'utf8').split('\n')
  .filter((l) => /^[A-Z_]+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
const required = (shape: Record<string, { safeParse(v: unknown): { success: boolean } }>): string[] =>
  Object.entries(shape).filter(([, schema]) => !schema.safeParse(undefined).success).map(([key]) => key);

/**
 * What is wrong with `document` by the Compose Specification's JSON schema, as the
 * `docker-compose` package (testcontainers' dependency) ships it, and references to services
 * and named volumes that do not exist: what `docker compose config` refuses, without Docker.
 */
function composeSpecErrors(document: Compose): string[] {
  const fromTestcontainers = createRequire(createRequire(import.meta.url).resolve('testcontainers'));
  const schema = JSON.parse(readFileSync(fromTestcontainers.resolve('docker-compose/schema/compose-spec.json'), 'utf8')) as object;
  // The schema names draft-07 by a URL Ajv does not know offline; its keywords are draft-07's.
  const validate = new Ajv({ strict: false, allErrors: true, validateSchema: false }).compile(schema);
  const errors = validate(document) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`);
  for (const [name, s] of Object.entries(document.services)) {
    for (const dependency of Object.keys(s.depends_on ?? {})) if (!(dependency in document.services)) errors.push(`${name}: depends on an unknown service ${dependency}`);
    for (const volume of s.volumes ?? []) {
      if (typeof volume !== 'string') continue; // the long form names its source in `source`, checked by the schema alone
      const source = volume.split(':')[0] ?? '';
      if (!/^[./~]/.test(source) && !(source in (document.volumes ?? {}))) errors.push(`${name}: mounts an undeclared volume ${source}`);
    }
  }
  return errors;
}

function dockerComposeWorks(): boolean {
  try {
    execFileSync('docker', ['compose', 'version'], { stdio: 'ignore', timeout: 5_000 });
    execFileSync('docker', ['info'], { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

describe('docker-compose.yml', () => {
  it('has the service, its upstreams and Redis', () => {
    for (const name of ['redis', 'api', 'worker', 'keycloak', 'grafana', 'k3s']) expect(Object.keys(services)).toContain(name);
    expect(service('keycloak').image).toBe('quay.io/keycloak/keycloak:26.5.5');
    expect(service('grafana').image).toMatch(/^grafana\/grafana-oss:/);
    expect(service('k3s').image).toMatch(/^rancher\/k3s:/);
    expect(service('k3s').privileged).toBe(true);
  });

  it('runs Redis with AOF and noeviction', () => {
    const command = [service('redis').command ?? []].flat().join(' ');
    expect(command).toMatch(/--appendonly yes/);
    expect(command).toMatch(/--maxmemory-policy noeviction/);
  });

  it('builds api and worker from this Dockerfile, health-checked, started after their dependencies are healthy', () => {
    for (const name of ['api', 'worker']) {
      const s = service(name);
      expect(s.build, name).toBe('.');
      expect(s.healthcheck?.test.join(' '), name).toMatch(/\/readyz/);
      expect(s.depends_on?.redis?.condition, name).toBe('service_healthy');
      expect(s.read_only, name).toBe(true);
    }
    // The worker's command (its Node flags) is checked against the manifest in node-flags.test.ts.
    for (const upstream of ['keycloak', 'grafana']) expect(service('worker').depends_on?.[upstream]?.condition).toBe('service_healthy');
    for (const name of ['redis', 'keycloak', 'grafana', 'k3s']) expect(service(name).healthcheck, name).toBeDefined();
  });

  it('sets only variables the config schemas know, and all they require', () => {
    // The malloc settings are read by the C library, not by our config (docs/operations.md, "Heap sizes").
    for (const [name, schema, extra] of [['api', apiEnv, MALLOC_ENV], ['worker', workerEnv, [...MALLOC_ENV, 'NODE_EXTRA_CA_CERTS']]] as const) {
      const names = Object.keys(service(name).environment ?? {});
      const known = new Set([...Object.keys(schema.shape), ...extra]);
      expect(names.filter((n) => !known.has(n)), `${name}: unknown variables`).toEqual([]);
      expect(required(schema.shape).filter((n) => !names.includes(n)), `${name}: missing variables`).toEqual([]);
    }
  });

  it('allows plain-HTTP upstreams explicitly, and only where the worker has one', () => {
    const worker = service('worker').environment ?? {};
    const insecure = Object.entries(worker).filter(([key, value]) => key.endsWith('_URL') && /^http:/i.test(String(value)));
    expect(insecure.map(([key]) => key)).toEqual(['GRAFANA_URL']);
    expect(worker.ALLOW_INSECURE_UPSTREAMS).toBe('true');
    expect(service('api').environment?.ALLOW_INSECURE_UPSTREAMS).toBeUndefined();
  });

  it('takes every secret from .env, and .env.example holds no value for any of them', () => {
    const raw = readFileSync(join(repoRoot, 'docker-compose.yml'), 'utf8');
    const fromEnv = [...raw.matchAll(/\$\{([A-Z_]+)(?::[-?][^}]*)?\}/g)].map((m) => m[1] ?? '');
    expect(fromEnv.filter((name) => !(name in envExample))).toEqual([]);
    for (const secret of ['API_TOKENS', 'RESULT_ENCRYPTION_KEY', 'KEYCLOAK_CLIENT_SECRET', 'KEYCLOAK_ADMIN_PASSWORD', 'GRAFANA_ADMIN_PASSWORD']) {
      expect(fromEnv, secret).toContain(secret);
      expect(envExample[secret], secret).toBe('');
    }
  });

  it('points k3s OIDC at the Keycloak realm the worker uses', () => {
    const args = [service('k3s').command ?? []].flat();
    const worker = service('worker').environment ?? {};
    const issuer = `${worker.KEYCLOAK_URL}/realms/${worker.KEYCLOAK_REALM}`;
    expect(args).toContain(`--kube-apiserver-arg=oidc-issuer-url=${issuer}`);
    expect(args).toContain('--kube-apiserver-arg=oidc-client-id=kubernetes');
    expect(args).toContain('--kube-apiserver-arg=oidc-username-claim=sub');
    expect([service('keycloak').command ?? []].flat()).toContain(`--hostname=${worker.KEYCLOAK_URL}`);
  });

  it('imports the same realm as the local stack, with the client secret from the environment', () => {
    const keycloak = service('keycloak');
    expect([keycloak.command ?? []].flat()).toContain('--import-realm');
    expect(keycloak.volumes).toContain('./deploy/keycloak:/opt/keycloak/data/import:ro');
    const shipped = JSON.parse(readFileSync(join(repoRoot, 'deploy/keycloak/playground-realm.json'), 'utf8')) as unknown;
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a Compose variable reference, kept literal in the shipped realm
    const stack = realmRepresentation({ secrets: { keycloakClientSecret: '${KEYCLOAK_CLIENT_SECRET}' } } as Parameters<typeof realmRepresentation>[0]);
    expect(shipped).toEqual(stack);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the Compose interpolation text itself
    expect(keycloak.environment?.KEYCLOAK_CLIENT_SECRET).toBe('${KEYCLOAK_CLIENT_SECRET:?set KEYCLOAK_CLIENT_SECRET in .env}');
  });

  it('is valid by the Compose Specification (and for docker compose config, where an engine answers)', () => {
    // Runs everywhere: only checked with Docker, an invalid file went unnoticed in CI.
    expect(composeSpecErrors(compose)).toEqual([]);
    if (dockerComposeWorks()) {
      const env = { ...process.env, API_TOKENS: 'a'.repeat(32), RESULT_ENCRYPTION_KEY: Buffer.alloc(32).toString('base64'),
        KEYCLOAK_ADMIN_PASSWORD: 'x', KEYCLOAK_CLIENT_SECRET: 'x', GRAFANA_ADMIN_PASSWORD: 'x' };
      execFileSync('docker', ['compose', '-f', join(repoRoot, 'docker-compose.yml'), 'config', '-q'], { env, timeout: 30_000 });
    }
  });

  it('the Compose check finds an unknown key, a command item that is not a string, and dangling references', () => {
    const broken = structuredClone(compose);
    const k3s = broken.services.k3s as Service & { restartt?: string };
    k3s.restartt = 'always';
    k3s.command = ['server', { '--flag=ends-with': null } as unknown as string];
    k3s.depends_on = { ...k3s.depends_on, nowhere: { condition: 'service_started' } };
    k3s.volumes = [...(k3s.volumes ?? []), 'undeclared:/data'];
    const errors = composeSpecErrors(broken).join('\n');
    expect(errors).toContain('/services/k3s must NOT have additional properties {"additionalProperty":"restartt"}');
    expect(errors).toMatch(/\/services\/k3s\/command\/1 must be string/);
    expect(errors).toContain('k3s: depends on an unknown service nowhere');
    expect(errors).toContain('k3s: mounts an undeclared volume undeclared');
  });
});
