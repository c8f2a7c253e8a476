// The playground's hardening fittings on the stack: the Pod Security labels, the quota on
// storage and outside-facing Services, and the two NetworkPolicies (default-deny ingress,
// egress deny list) are written at create; a trainee cannot remove them; when an admin
// deletes or weakens them, sync and a purge reset put them back. The stack runs no CNI:
// Kubernetes stores NetworkPolicies but nothing enforces them here, so these tests prove
// they are applied and kept, not that packets are dropped.
import { randomBytes } from 'node:crypto';
import { CoreV1Api, NetworkingV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syncRunResult } from '@kup/core';
import { uniqueUsername } from '../helpers/names.js';
import { kubeConfigForToken, oidcLogin } from '../helpers/oidc.js';
import { adminKubeConfig, kubeStatus } from '../helpers/stack.js';
import { fleetHarness, type FleetHarness } from './fleet-harness.js';

const EGRESS_DENY = ['169.254.169.254/32', '10.0.0.0/24'];

describe('playground fittings: applied at create, kept by sync and reset', () => {
  let h: FleetHarness;
  const prefix = uniqueUsername('t-fit');
  const trainee = `${prefix}-a`;
  const kc = adminKubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  const net = kc.makeApiClient(NetworkingV1Api);
  /** The policy as the apiserver stores it (plain JSON, not the client's model classes). */
  const policy = async (name: string): Promise<{ spec?: unknown } | undefined> =>
    h.ports.cluster.get({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', name, namespace: trainee });

  /** What the plan wants, checked on the live objects. */
  async function expectFittings(): Promise<void> {
    const ns = await core.readNamespace({ name: trainee });
    expect(ns.metadata?.labels).toMatchObject({
      'pod-security.kubernetes.io/enforce': 'baseline',
      'pod-security.kubernetes.io/warn': 'restricted',
      'pod-security.kubernetes.io/audit': 'restricted',
    });
    const quota = await core.readNamespacedResourceQuota({ name: 'resource-limits', namespace: trainee });
    expect(quota.spec?.hard).toMatchObject({
      'services.loadbalancers': '0',
      'services.nodeports': '0',
      persistentvolumeclaims: '5',
      'requests.storage': '10Gi',
    });
    expect((await policy('default-deny'))?.spec).toMatchObject({ policyTypes: ['Ingress'], ingress: [{ from: [{ podSelector: {} }] }] });
    expect((await policy('deny-egress-restricted'))?.spec).toMatchObject({
      policyTypes: ['Egress'],
      egress: [{ to: [{ namespaceSelector: {} }, { ipBlock: { cidr: '0.0.0.0/0', except: EGRESS_DENY } }, { ipBlock: { cidr: '::/0' } }] }],
    });
  }

  /** An admin (not the provisioner) weakens everything the plan put there. */
  async function tamper(): Promise<void> {
    await net.deleteNamespacedNetworkPolicy({ name: 'deny-egress-restricted', namespace: trainee });
    const open = await net.readNamespacedNetworkPolicy({ name: 'default-deny', namespace: trainee });
    open.spec = { podSelector: {}, policyTypes: ['Ingress'], ingress: [{}] };
    await net.replaceNamespacedNetworkPolicy({ name: 'default-deny', namespace: trainee, body: open });
    await core.patchNamespace(
      { name: trainee, body: [{ op: 'remove', path: '/metadata/labels/pod-security.kubernetes.io~1enforce' }] },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    );
    await core.patchNamespacedResourceQuota(
      { name: 'resource-limits', namespace: trainee, body: [{ op: 'replace', path: '/spec/hard/services.nodeports', value: '5' }] },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    );
    expect(await policy('deny-egress-restricted')).toBeUndefined();
    expect((await core.readNamespace({ name: trainee })).metadata?.labels).not.toHaveProperty('pod-security.kubernetes.io/enforce');
  }

  beforeAll(async () => {
    h = await fleetHarness({ NETWORK_POLICY_EGRESS_DENY_CIDRS: EGRESS_DENY.join(',') });
    await h.provision(trainee);
  });

  afterAll(async () => {
    await h?.remove(trainee).catch(() => undefined);
    await h?.close();
  });

  it('create writes the Pod Security labels, the quota and both NetworkPolicies', async () => {
    await expectFittings();
  });

  it('the trainee can neither delete the policies nor relabel the namespace', async () => {
    const user = await h.ports.identity.findUser(trainee);
    const password = `Pw-${randomBytes(8).toString('hex')}-9`;
    await h.ports.identity.setPassword(user!.id, password);
    const { idToken } = await oidcLogin(trainee, password);
    const as = kubeConfigForToken(idToken);
    const refused = async (call: () => Promise<unknown>): Promise<number | undefined> => call().then(() => 200, kubeStatus);
    expect(await refused(() => as.makeApiClient(NetworkingV1Api).deleteNamespacedNetworkPolicy({ name: 'default-deny', namespace: trainee }))).toBe(403);
    expect(await refused(() => as.makeApiClient(CoreV1Api).patchNamespace(
      { name: trainee, body: [{ op: 'remove', path: '/metadata/labels/pod-security.kubernetes.io~1enforce' }] },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    ))).toBe(403);
    await expectFittings();
  });

  it('sync puts back what an admin deleted or weakened', async () => {
    await tamper();
    const { state, job } = await h.run('sync', { username: trainee });
    expect(state, job.failedReason).toBe('completed');
    expect(syncRunResult.parse(job.returnvalue).results.failed_fixes).toEqual([]);
    await expectFittings();
  });

  it('a fleet purge reset puts them back too', async () => {
    await tamper();
    const { state, job } = await h.run('reset', { usernamePrefix: prefix, mode: 'purge' });
    expect(state, job.failedReason).toBe('completed');
    expect(job.returnvalue).toMatchObject({ namespaces_reset: 1, failed_resets: [] });
    await expectFittings();
  });
});
