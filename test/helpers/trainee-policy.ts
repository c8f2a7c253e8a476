// The shipped trainee admission policies (k8s/base/trainee-policy.yaml: the limits, and the
// one for pod deletes and evictions) on the shared stack, under names of the test's own and
// bound to the test's namespaces only, so concurrent runs (and other tests' playgrounds)
// never see each other's copy. The policies' rules are the file's, unchanged; only the
// bindings are narrowed.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { applyObjects, kubectl, type Manifest } from './service-account-kubeconfig.js';
import { stackEnv } from './stack.js';

export const TRAINEE_POLICY_FILE = new URL('../../k8s/base/trainee-policy.yaml', import.meta.url);

export interface AppliedTraineePolicy {
  /** The main policy's name on the stack (it appears in every refusal). */
  name: string;
  /** The name on the stack of the policy for pod deletes and evictions. */
  deletesName: string;
  remove(): Promise<void>;
}

export async function applyTraineePolicy(namespaces: string[]): Promise<AppliedTraineePolicy> {
  const docs = parseAllDocuments(readFileSync(TRAINEE_POLICY_FILE, 'utf8')).map((d) => d.toJS() as Manifest);
  const policies = docs.filter((d) => d.kind === 'ValidatingAdmissionPolicy');
  const bindings = docs.filter((d) => d.kind === 'ValidatingAdmissionPolicyBinding') as (Manifest & { spec: Record<string, unknown> })[];
  const suffix = randomBytes(4).toString('hex');
  const names = new Map(policies.map((p) => [p.metadata.name, `${p.metadata.name}-${suffix}`]));
  const main = names.get('k8s-user-provisioner-trainee-limits');
  const deletes = names.get('k8s-user-provisioner-trainee-deletes');
  if (!main || !deletes || bindings.length !== policies.length) throw new Error('trainee-policy.yaml lacks a policy or a binding');
  for (const policy of policies) policy.metadata.name = names.get(policy.metadata.name) as string;
  for (const binding of bindings) {
    const renamed = names.get(binding.spec.policyName as string);
    if (!renamed) throw new Error(`trainee-policy.yaml binds an unknown policy ${String(binding.spec.policyName)}`);
    binding.metadata.name = renamed;
    binding.spec.policyName = renamed;
    binding.spec.matchResources = {
      namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: namespaces }] },
    };
  }
  const admin = stackEnv('KUBECONFIG');
  const applied = await applyObjects([...policies, ...bindings], admin);
  if (applied.code !== 0) throw new Error(`applying ${main}, ${deletes}: ${applied.stderr.trim()}`);
  return {
    name: main,
    deletesName: deletes,
    async remove() {
      await kubectl(['delete', 'validatingadmissionpolicybinding,validatingadmissionpolicy', main, deletes, '--ignore-not-found', '--wait=false'], {
        kubeconfig: admin,
      });
    },
  };
}
