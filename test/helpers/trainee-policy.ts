// The shipped trainee admission policy (k8s/base/trainee-policy.yaml) on the shared stack,
// under a name of the test's own and bound to the test's namespaces only, so concurrent
// runs (and other tests' playgrounds) never see each other's copy. The policy's rules are
// the file's, unchanged; only the binding is narrowed.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { applyObjects, kubectl, type Manifest } from './service-account-kubeconfig.js';
import { stackEnv } from './stack.js';

export const TRAINEE_POLICY_FILE = new URL('../../k8s/base/trainee-policy.yaml', import.meta.url);

export interface AppliedTraineePolicy {
  /** The policy's name on the stack (it appears in every refusal). */
  name: string;
  remove(): Promise<void>;
}

export async function applyTraineePolicy(namespaces: string[]): Promise<AppliedTraineePolicy> {
  const docs = parseAllDocuments(readFileSync(TRAINEE_POLICY_FILE, 'utf8')).map((d) => d.toJS() as Manifest);
  const policy = docs.find((d) => d.kind === 'ValidatingAdmissionPolicy');
  const binding = docs.find((d) => d.kind === 'ValidatingAdmissionPolicyBinding') as (Manifest & { spec: Record<string, unknown> }) | undefined;
  if (!policy || !binding) throw new Error('trainee-policy.yaml lacks the policy or its binding');
  const name = `${policy.metadata.name}-${randomBytes(4).toString('hex')}`;
  policy.metadata.name = name;
  binding.metadata.name = name;
  binding.spec.policyName = name;
  binding.spec.matchResources = {
    namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: namespaces }] },
  };
  const admin = stackEnv('KUBECONFIG');
  const applied = await applyObjects([policy, binding], admin);
  if (applied.code !== 0) throw new Error(`applying ${name}: ${applied.stderr.trim()}`);
  return {
    name,
    async remove() {
      await kubectl(['delete', 'validatingadmissionpolicybinding,validatingadmissionpolicy', name, '--ignore-not-found', '--wait=false'], {
        kubeconfig: admin,
      });
    },
  };
}
