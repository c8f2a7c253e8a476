// Namespace templates against the stack (PLAYGROUND_TEMPLATES): create applies them to a
// trainee's namespace, rendered for the trainee, and sync puts them back; a changed template is re-applied and a
// dropped one deleted by the next sync (the trainee's own objects untouched); a purge reset
// leaves them in a clean playground; invalid templates stop the worker with file:line.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANNOTATIONS, ConfigError, InvalidTemplatesError, LABELS, type ObjectRef } from '@kup/core';
import { emailOf, uniquePrefix, uniqueUsername } from '../helpers/names.js';
import { startTestWorkerApp } from '../helpers/service.js';
import { kubectlOk } from '../helpers/service-account-kubeconfig.js';
import { workerConfig } from '../helpers/stack.js';
import { fleetHarness, type FleetHarness } from './fleet-harness.js';

const LAB_V1 = `apiVersion: v1
kind: ConfigMap
metadata:
  name: lab-\${username}
data:
  email: \${email}
  version: "1"
`;
const BOT = `apiVersion: v1
kind: ServiceAccount
metadata:
  name: lab-bot
`;

function templateDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'kup-templates-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

describe('namespace templates', () => {
  const u = uniqueUsername('t-tpl');
  const lab: ObjectRef = { apiVersion: 'v1', kind: 'ConfigMap', name: `lab-${u}`, namespace: u };
  const bot: ObjectRef = { apiVersion: 'v1', kind: 'ServiceAccount', name: 'lab-bot', namespace: u };
  const mine: ObjectRef = { apiVersion: 'v1', kind: 'ConfigMap', name: 'my-notes', namespace: u };
  let h: FleetHarness | undefined;
  const dataOf = async (ref: ObjectRef) => ((await h?.ports.cluster.get(ref)) as { data?: Record<string, string> } | undefined)?.data;

  beforeAll(async () => {
    h = await fleetHarness({ PLAYGROUND_TEMPLATES: templateDir({ 'lab.yaml': LAB_V1, 'bot.yaml': BOT }) });
    await h.provision(u);
  });
  afterAll(async () => {
    await h?.remove(u).catch(() => undefined);
    await h?.close();
  });

  it('create applies the templates, rendered for the trainee, and records them on the namespace; sync puts back one deleted', async () => {
    expect(await dataOf(lab)).toEqual({ email: emailOf(u), version: '1' });
    await h!.ports.cluster.delete(lab);
    expect(await h!.ports.cluster.get(lab)).toBeUndefined();
    const { state, job } = await h!.run('sync', { username: u });
    expect(state, job.failedReason).toBe('completed');
    const configMap = (await h!.ports.cluster.get(lab)) as { metadata: { labels: Record<string, string> }; data: Record<string, string> };
    expect(configMap.data).toEqual({ email: emailOf(u), version: '1' });
    expect(configMap.metadata.labels).toMatchObject({ [LABELS.template]: 'true', [LABELS.managedBy]: 'k8s-provisioner' });
    expect(await h!.ports.cluster.get(bot)).toBeDefined();
    const namespace = await h!.ports.cluster.getNamespace(u);
    expect(namespace?.annotations[ANNOTATIONS.templates]).toBe(`v1:ConfigMap:lab-${u},v1:ServiceAccount:lab-bot`);
  });

  it('the next sync re-applies a changed template and deletes a dropped one, leaving the trainee\'s objects alone', async () => {
    await h!.ports.cluster.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: mine.name, namespace: u }, data: { a: 'b' } });
    await h!.close();
    h = await fleetHarness({ PLAYGROUND_TEMPLATES: templateDir({ 'lab.yaml': LAB_V1.replace('version: "1"', 'version: "2"') }) });

    const { state, job } = await h.run('sync', { username: u });
    expect(state, job.failedReason).toBe('completed');
    expect(await dataOf(lab)).toEqual({ email: emailOf(u), version: '2' });
    expect(await h.ports.cluster.get(bot)).toBeUndefined();
    expect(await dataOf(mine)).toEqual({ a: 'b' });
    expect((await h.ports.cluster.getNamespace(u))?.annotations[ANNOTATIONS.templates]).toBe(`v1:ConfigMap:lab-${u}`);
  });

  it('a purge reset empties the playground but puts the templates back', async () => {
    const { state, job } = await h!.run('reset', { username: u, mode: 'purge' });
    expect(state, job.failedReason).toBe('completed');
    expect(await h!.ports.cluster.get(mine)).toBeUndefined();
    expect(await dataOf(lab)).toEqual({ email: emailOf(u), version: '2' });
  });

  it('a reset with the template dropped leaves none of its objects', async () => {
    await h!.close();
    h = await fleetHarness({ PLAYGROUND_TEMPLATES: templateDir({}) });
    const { state, job } = await h.run('reset', { username: u, mode: 'purge' });
    expect(state, job.failedReason).toBe('completed');
    expect(await h.ports.cluster.get(lab)).toBeUndefined();
    expect((await h.ports.cluster.getNamespace(u))?.annotations).not.toHaveProperty(ANNOTATIONS.templates);
  });
});

describe('invalid templates stop the worker', () => {
  it('at configuration load: a template that names another namespace, with file and line', () => {
    const dir = templateDir({ 'lab.yaml': `${LAB_V1}---\n${BOT.replace('  name: lab-bot', '  name: lab-bot\n  namespace: kube-system')}` });
    expect(() => workerConfig({ PLAYGROUND_TEMPLATES: dir })).toThrow(ConfigError);
    expect(() => workerConfig({ PLAYGROUND_TEMPLATES: dir })).toThrow(`PLAYGROUND_TEMPLATES: ${join(dir, 'lab.yaml')}:9: metadata.namespace "kube-system"`);
  });

  it('at start: a cluster-scoped kind, checked against the cluster\'s discovery, with file and line', async () => {
    const dir = templateDir({ 'lab.yaml': LAB_V1, 'role.yaml': 'apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: lab-admin\nrules: []\n' });
    const config = workerConfig({ QUEUE_PREFIX: uniquePrefix('tpl'), PLAYGROUND_TEMPLATES: dir, WORKER_HEALTH_PORT: '0' });
    const started = startTestWorkerApp(config);
    await expect(started).rejects.toThrow(InvalidTemplatesError);
    await expect(started).rejects.toThrow(`${join(dir, 'role.yaml')}:1: ClusterRole is cluster-scoped; templates hold only namespaced objects`);
    // Nothing was made: the check runs before the worker takes a job.
    expect(await kubectlOk(['get', 'clusterrole', 'lab-admin', '--ignore-not-found'])).toBe('');
  });
});
