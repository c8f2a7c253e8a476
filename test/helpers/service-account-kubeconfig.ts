// The worker's shipped Kubernetes rights, for tests: applies the RBAC of k8s/base into the
// local stack under names of its own (a namespace per call, the worker ClusterRole and its
// binding suffixed; the trainee ClusterRole under its real name, shared and idempotent) and
// hands back a kubeconfig that authenticates with a TokenRequest token of the `worker`
// ServiceAccount. Point the worker's KUBECONFIG at it to prove the ClusterRole is enough.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { eventually } from './poll.js';

export const repoRoot = resolve(import.meta.dirname, '..', '..');
export const KUBECTL = process.env.KUBECTL ?? '/usr/bin/kubectl';

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs kubectl; never throws on a non-zero exit (callers assert on `code`). */
export function kubectl(args: string[], opts: { kubeconfig?: string; input?: string; timeoutMs?: number } = {}): Promise<KubectlResult> {
  const full = opts.kubeconfig ? ['--kubeconfig', opts.kubeconfig, ...args] : args;
  return new Promise((done, fail) => {
    const child = execFile(KUBECTL, full, { cwd: repoRoot, timeout: opts.timeoutMs ?? 60_000, maxBuffer: 32 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') return fail(error);
        done({ code: error ? Number(error.code) : 0, stdout, stderr });
      });
    child.stdin?.end(opts.input ?? '');
  });
}

/** kubectl, but a non-zero exit is an error naming the command and its stderr. */
export async function kubectlOk(args: string[], opts: { kubeconfig?: string; input?: string } = {}): Promise<string> {
  const res = await kubectl(args, opts);
  if (res.code !== 0) throw new Error(`kubectl ${args.join(' ')}: exit ${res.code}: ${res.stderr.trim()}`);
  return res.stdout;
}

export type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [key: string]: unknown };
  [field: string]: unknown;
};

/** `kubectl kustomize <dir>` (relative to the repository), parsed. */
export async function render(dir: string): Promise<Manifest[]> {
  const out = await kubectlOk(['kustomize', join(repoRoot, dir)]);
  return parseAllDocuments(out).map((doc) => doc.toJS() as Manifest).filter(Boolean);
}

/** k8s/base with components of k8s/components (names), rendered through a throw-away overlay. */
export async function renderWithComponents(components: readonly string[]): Promise<Manifest[]> {
  if (components.length === 0) return render('k8s/base');
  const dir = mkdtempSync(join(tmpdir(), 'kup-overlay-'));
  try {
    // kustomize refuses absolute roots; relative ones may leave the folder.
    const paths = components.map((c) => relative(dir, join(repoRoot, 'k8s/components', c)));
    writeFileSync(join(dir, 'kustomization.yaml'), [
      'apiVersion: kustomize.config.k8s.io/v1beta1', 'kind: Kustomization',
      `resources: [${relative(dir, join(repoRoot, 'k8s/base'))}]`, `components: [${paths.join(', ')}]`, '',
    ].join('\n'));
    const out = await kubectlOk(['kustomize', dir]);
    return parseAllDocuments(out).map((doc) => doc.toJS() as Manifest).filter(Boolean);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * k8s/overlays/example as an operator installs it in another namespace: a copy of k8s/ whose
 * example overlay has `namespace` changed (what its comment says to do), with the optional
 * components it lists switched on by name.
 */
export async function renderExampleIn(namespace: string, components: readonly string[] = []): Promise<Manifest[]> {
  const dir = mkdtempSync(join(tmpdir(), 'kup-k8s-'));
  try {
    cpSync(join(repoRoot, 'k8s'), join(dir, 'k8s'), { recursive: true });
    const file = join(dir, 'k8s/overlays/example/kustomization.yaml');
    let text = readFileSync(file, 'utf8');
    if (!/^namespace: k8s-user-provisioner$/m.test(text)) throw new Error('overlays/example sets no namespace to change');
    text = text.replace(/^namespace: k8s-user-provisioner$/m, `namespace: ${namespace}`);
    for (const c of components) {
      const line = `  # - ../../components/${c}`;
      if (!text.includes(line)) throw new Error(`overlays/example does not list the component ${c}`);
      text = text.replace(line, `  - ../../components/${c}`);
    }
    writeFileSync(file, text);
    const out = await kubectlOk(['kustomize', join(dir, 'k8s/overlays/example')]);
    return parseAllDocuments(out).map((doc) => doc.toJS() as Manifest).filter(Boolean);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const WORKER_SERVICE_ACCOUNT = 'worker';
export const WORKER_CLUSTER_ROLE = 'k8s-user-provisioner-worker';
export const TRAINEE_CLUSTER_ROLE = 'read-write-all-except-resourcequotas';
export const WORKER_SCOPE_POLICY = 'k8s-user-provisioner-worker-scope';

export interface WorkerServiceAccount {
  /** A kubeconfig file (mode 600) whose only credential is the ServiceAccount's token. */
  kubeconfig: string;
  namespace: string;
  /** `system:serviceaccount:<namespace>:worker`, for `--as` and SubjectAccessReviews. */
  user: string;
  clusterRole: string;
  traineeClusterRole: string;
  /** The ValidatingAdmissionPolicy (and binding) confining this ServiceAccount's deletes. */
  scopePolicy: string;
  /** Removes this call's namespace, ClusterRole, ClusterRoleBinding, policy and kubeconfig. */
  cleanup(): Promise<void>;
}

/**
 * The worker's part of a rendering (RBAC and the scope admission policy), renamed so that
 * concurrent callers never share objects. `namespace` defaults to a fresh `kup-sa-<suffix>`;
 * pass the rendering's own namespace to apply it as rendered (subjects left untouched).
 */
export function workerRbac(rendered: Manifest[], suffix: string, opts: { namespace?: string } = {}):
  { objects: Manifest[]; namespace: string; clusterRole: string; scopePolicy: string } {
  const namespace = opts.namespace ?? `kup-sa-${suffix}`;
  const clusterRole = `${WORKER_CLUSTER_ROLE}-${suffix}`;
  const scopePolicy = `${WORKER_SCOPE_POLICY}-${suffix}`;
  const pick = (kind: string, name: string): Manifest => {
    const found = rendered.find((o) => o.kind === kind && o.metadata.name === name);
    if (!found) throw new Error(`the rendering has no ${kind} ${name}`);
    return structuredClone(found);
  };
  const sa = pick('ServiceAccount', WORKER_SERVICE_ACCOUNT);
  const renderedNamespace = sa.metadata.namespace ?? '';
  const moved = namespace !== renderedNamespace;
  const ns = pick('Namespace', renderedNamespace);
  ns.metadata.name = namespace;
  sa.metadata.namespace = namespace;
  // The worker's ClusterRoles (the base's, and any a component adds), renamed with the suffix.
  const roles = rendered
    .filter((o) => o.kind === 'ClusterRoleBinding' && (o as { subjects?: { name: string }[] }).subjects?.some((s) => s.name === WORKER_SERVICE_ACCOUNT))
    .flatMap((found) => {
      const binding = structuredClone(found) as Manifest & { roleRef: { name: string }; subjects: { kind: string; name: string; namespace?: string }[] };
      const role = pick('ClusterRole', binding.roleRef.name);
      const name = `${binding.roleRef.name}-${suffix}`;
      role.metadata.name = name;
      binding.metadata.name = name;
      binding.roleRef.name = name;
      if (moved) binding.subjects = binding.subjects.map((s) => ({ ...s, namespace }));
      return [role, binding];
    });
  if (!roles.some((o) => o.metadata.name === clusterRole)) throw new Error(`the rendering binds no ${WORKER_CLUSTER_ROLE} to the worker`);
  const policy = pick('ValidatingAdmissionPolicy', WORKER_SCOPE_POLICY);
  policy.metadata.name = scopePolicy;
  // Test isolation only: every copy of the policy (one per concurrent caller) would confine
  // every caller's worker, and a test waiting for its own copy would see another's denial.
  // So each copy sees only service accounts of its own namespace; ANDed with the shipped
  // conditions, which must still pick the worker among them for the policy to apply.
  (policy.spec as { matchConditions: { name: string; expression: string }[] }).matchConditions.push({
    name: 'this-test-only',
    expression: `request.userInfo.username.startsWith('system:serviceaccount:${namespace}:')`,
  });
  const policyBinding = pick('ValidatingAdmissionPolicyBinding', WORKER_SCOPE_POLICY);
  policyBinding.metadata.name = scopePolicy;
  (policyBinding.spec as { policyName: string }).policyName = scopePolicy;
  return {
    objects: [ns, pick('ClusterRole', TRAINEE_CLUSTER_ROLE), sa, ...roles, policy, policyBinding],
    namespace, clusterRole, scopePolicy,
  };
}

/** Server-side apply (idempotent and race-free between concurrent callers). */
export function applyObjects(objects: Manifest[], adminKubeconfig: string, extra: string[] = []): Promise<KubectlResult> {
  const list = { apiVersion: 'v1', kind: 'List', items: objects };
  return kubectl(['apply', '--server-side', '--force-conflicts', '--field-manager=kup-deploy-tests', ...extra, '-f', '-'],
    { kubeconfig: adminKubeconfig, input: JSON.stringify(list) });
}

function tokenKubeconfig(adminKubeconfig: string, token: string, namespace: string): string {
  const admin = parse(readFileSync(adminKubeconfig, 'utf8')) as {
    'current-context': string;
    contexts: { name: string; context: { cluster: string } }[];
    clusters: { name: string; cluster: Record<string, unknown> }[];
  };
  const context = admin.contexts.find((c) => c.name === admin['current-context']);
  const cluster = admin.clusters.find((c) => c.name === context?.context.cluster);
  if (!cluster) throw new Error(`${adminKubeconfig}: no cluster for the current context`);
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'stack', cluster: cluster.cluster }],
    users: [{ name: 'worker', user: { token } }],
    contexts: [{ name: 'worker', context: { cluster: 'stack', user: 'worker', namespace } }],
    'current-context': 'worker',
  });
}

/** Polls `check` until it holds (test/helpers/poll.ts). */
async function until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  await eventually(what, async () => ((await check()) ? true : undefined), timeoutMs, 200);
}

export async function workerServiceAccountKubeconfig(
  opts: {
    adminKubeconfig?: string; tokenSeconds?: number; components?: readonly string[];
    /**
     * A rendering to take the worker from, applied in its own namespace, with the
     * trainee-clusterrole component on (default: k8s/base with it and `components`, moved to a fresh one).
     */
    rendered?: Manifest[];
  } = {},
): Promise<WorkerServiceAccount> {
  const adminKubeconfig = opts.adminKubeconfig ?? process.env.KUBECONFIG;
  if (!adminKubeconfig) throw new Error('KUBECONFIG is not set (the integration globalSetup provides the stack env)');
  const suffix = randomBytes(4).toString('hex');
  // The trainee role is an optional component (clusters may have it already); the worker binds
  // it, so tests apply it: a given rendering must have it switched on too.
  const renderedNamespace = opts.rendered?.find((o) => o.kind === 'ServiceAccount' && o.metadata.name === WORKER_SERVICE_ACCOUNT)?.metadata.namespace;
  const { objects, namespace, clusterRole, scopePolicy } = opts.rendered
    ? workerRbac(opts.rendered, suffix, renderedNamespace ? { namespace: renderedNamespace } : {})
    : workerRbac(await renderWithComponents(['trainee-clusterrole', ...(opts.components ?? [])]), suffix);
  const dir = mkdtempSync(join(tmpdir(), 'kup-sa-'));
  const cleanup = async (): Promise<void> => {
    const roles = objects.filter((o) => o.kind === 'ClusterRole' && o.metadata.name.endsWith(`-${suffix}`)).map((o) => o.metadata.name);
    await kubectl(['delete', 'clusterrolebinding,clusterrole', ...roles, '--ignore-not-found', '--wait=false'], { kubeconfig: adminKubeconfig });
    await kubectl(['delete', 'validatingadmissionpolicybinding,validatingadmissionpolicy', scopePolicy, '--ignore-not-found', '--wait=false'],
      { kubeconfig: adminKubeconfig });
    await kubectl(['delete', 'namespace', namespace, '--ignore-not-found', '--wait=false'], { kubeconfig: adminKubeconfig });
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const applied = await applyObjects(objects, adminKubeconfig);
    if (applied.code !== 0) throw new Error(`applying the worker RBAC: ${applied.stderr.trim()}`);
    const token = (await kubectlOk(['create', 'token', WORKER_SERVICE_ACCOUNT, '-n', namespace,
      `--duration=${opts.tokenSeconds ?? 3600}s`], { kubeconfig: adminKubeconfig })).trim();
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, tokenKubeconfig(adminKubeconfig, token, namespace), { mode: 0o600 });
    // The RBAC authorizer sees new bindings through an informer: wait until it does.
    await until('worker ClusterRoleBinding in effect', async () =>
      (await kubectl(['auth', 'can-i', 'create', 'namespaces'], { kubeconfig })).code === 0, 30_000);
    // Admission policies load asynchronously too: wait until a dry-run delete of this
    // call's own (unlabelled) namespace is refused by the scope policy.
    await until('worker scope policy in effect', async () => {
      const res = await kubectl(['delete', 'namespace', namespace, '--dry-run=server'], { kubeconfig });
      return res.code !== 0 && res.stderr.includes(scopePolicy);
    }, 30_000);
    return {
      kubeconfig, namespace, clusterRole, scopePolicy, cleanup,
      user: `system:serviceaccount:${namespace}:${WORKER_SERVICE_ACCOUNT}`,
      traineeClusterRole: TRAINEE_CLUSTER_ROLE,
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
