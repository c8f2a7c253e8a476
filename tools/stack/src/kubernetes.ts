import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { http } from './http.js';
import { issuerUrl, keycloakNames } from './keycloak.js';
import { cachePath, repoRoot, stackPath, versions } from './paths.js';
import { pki } from './pki.js';
import { log, run, waitFor } from './process.js';
import type { Server, StackContext } from './server.js';

export const binaries = {
  etcd: () => cachePath('bin', `etcd-${versions.etcd}`, 'etcd'),
  apiserver: () => cachePath('bin', `kubernetes-${versions.kubernetes}`, 'kube-apiserver'),
  controllerManager: () => cachePath('bin', `kubernetes-${versions.kubernetes}`, 'kube-controller-manager'),
};

export const controlPlaneBuilt = (): boolean =>
  existsSync(binaries.etcd()) && existsSync(binaries.apiserver()) && existsSync(binaries.controllerManager());

/** Runs tools/stack/scripts/build-control-plane.sh (cached by version; prints its progress). */
export async function buildControlPlane(): Promise<void> {
  if (controlPlaneBuilt()) return;
  log(`control plane: building etcd ${versions.etcd} and Kubernetes ${versions.kubernetes} from the Go module proxy (first time: several minutes)`);
  const script = join(repoRoot, 'tools', 'stack', 'scripts', 'build-control-plane.sh');
  await run('bash', [script, 'all'], undefined, { K8S_VERSION: versions.kubernetes, ETCD_VERSION: versions.etcd });
  if (!controlPlaneBuilt()) throw new Error('control plane: the build finished without the binaries');
}

const b64 = (file: string): string => readFileSync(file).toString('base64');

export const kubeconfigPath = (): string => stackPath('kubeconfig');

/** The admin kubeconfig (O=system:masters client certificate), credentials embedded. */
export function writeKubeconfig(ctx: StackContext): void {
  const yaml = `apiVersion: v1
kind: Config
clusters:
- name: kup-stack
  cluster:
    server: https://127.0.0.1:${ctx.ports.apiserver}
    certificate-authority-data: ${b64(pki.caCert())}
users:
- name: kup-stack-admin
  user:
    client-certificate-data: ${b64(pki.cert('admin'))}
    client-key-data: ${b64(pki.key('admin'))}
contexts:
- name: kup-stack
  context:
    cluster: kup-stack
    user: kup-stack-admin
    namespace: default
current-context: kup-stack
`;
  writeFileSync(kubeconfigPath(), yaml, { mode: 0o600 });
}

const adminTls = () => ({
  ca: readFileSync(pki.caCert()),
  cert: readFileSync(pki.cert('admin')),
  key: readFileSync(pki.key('admin')),
});

export function apiserverGet(ctx: StackContext, path: string) {
  return http(`https://127.0.0.1:${ctx.ports.apiserver}${path}`, adminTls());
}

export const etcd: Server = {
  name: 'etcd',
  marker: `etcd-${versions.etcd}/etcd`,
  readyTimeoutMs: 60_000,
  ports: (ctx) => [ctx.ports.etcd, ctx.ports.etcdPeer],
  async prepare(ctx) {
    mkdirSync(stackPath('etcd'), { recursive: true, mode: 0o700 });
    const client = `http://127.0.0.1:${ctx.ports.etcd}`;
    const peer = `http://127.0.0.1:${ctx.ports.etcdPeer}`;
    return {
      name: 'etcd',
      command: binaries.etcd(),
      args: [
        '--name=kup-stack',
        `--data-dir=${stackPath('etcd')}`,
        `--listen-client-urls=${client}`,
        `--advertise-client-urls=${client}`,
        `--listen-peer-urls=${peer}`,
        `--initial-advertise-peer-urls=${peer}`,
        `--initial-cluster=kup-stack=${peer}`,
        '--initial-cluster-state=new',
        '--log-level=warn',
      ],
    };
  },
  ready: async (ctx) => {
    const res = await http(`http://127.0.0.1:${ctx.ports.etcd}/health`);
    return res.status === 200 && res.body.includes('"health":"true"');
  },
  where: (ctx) => `http://127.0.0.1:${ctx.ports.etcd}`,
};

export const apiserver: Server = {
  name: 'kube-apiserver',
  marker: 'kube-apiserver',
  readyTimeoutMs: 120_000,
  stopGraceMs: 20_000,
  ports: (ctx) => [ctx.ports.apiserver],
  async prepare(ctx) {
    mkdirSync(stackPath('kube', 'apiserver'), { recursive: true });
    return {
      name: 'kube-apiserver',
      command: binaries.apiserver(),
      args: [
        `--etcd-servers=http://127.0.0.1:${ctx.ports.etcd}`,
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        `--secure-port=${ctx.ports.apiserver}`,
        `--cert-dir=${stackPath('kube', 'apiserver')}`,
        `--tls-cert-file=${pki.cert('apiserver')}`,
        `--tls-private-key-file=${pki.key('apiserver')}`,
        `--client-ca-file=${pki.caCert()}`,
        '--authorization-mode=Node,RBAC',
        // As kubeadm and k3s run it: privileged containers are allowed by the apiserver, so
        // only Pod Security admission (and our policies) stand between a trainee and the node.
        '--allow-privileged=true',
        '--service-cluster-ip-range=10.0.0.0/24',
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        `--service-account-key-file=${pki.saPub()}`,
        `--service-account-signing-key-file=${pki.saKey()}`,
        '--endpoint-reconciler-type=none',
        `--oidc-issuer-url=${issuerUrl(ctx)}`,
        `--oidc-client-id=${keycloakNames.loginClientId}`,
        `--oidc-ca-file=${pki.caCert()}`,
        '--oidc-username-claim=sub',
        '--oidc-groups-claim=groups',
        '--oidc-groups-prefix=oidc:',
        '--profiling=false',
      ],
    };
  },
  ready: async (ctx) => {
    const res = await apiserverGet(ctx, '/readyz');
    return res.status === 200;
  },
  where: (ctx) => `https://127.0.0.1:${ctx.ports.apiserver} (kubeconfig ${kubeconfigPath()})`,
};

export const controllers = [
  'namespace',
  'resourcequota',
  'garbagecollector',
  'clusterrole-aggregation',
  'serviceaccount',
  'serviceaccount-token',
];

export const controllerManager: Server = {
  name: 'kube-controller-manager',
  marker: 'kube-controller-manager',
  readyTimeoutMs: 90_000,
  ports: (ctx) => [ctx.ports.controllerManager],
  async prepare(ctx) {
    mkdirSync(stackPath('kube', 'controller-manager'), { recursive: true });
    const kubeconfig = kubeconfigPath();
    return {
      name: 'kube-controller-manager',
      command: binaries.controllerManager(),
      args: [
        `--kubeconfig=${kubeconfig}`,
        `--authentication-kubeconfig=${kubeconfig}`,
        `--authorization-kubeconfig=${kubeconfig}`,
        '--bind-address=127.0.0.1',
        `--secure-port=${ctx.ports.controllerManager}`,
        `--cert-dir=${stackPath('kube', 'controller-manager')}`,
        `--controllers=${controllers.join(',')}`,
        `--service-account-private-key-file=${pki.saKey()}`,
        `--root-ca-file=${pki.caCert()}`,
        '--leader-elect=false',
        '--profiling=false',
        // A quota whose first count missed an object (the namespace's `default` ServiceAccount,
        // made as the quota is) is recounted at the next full sync: 5 minutes by default, past
        // the tests that wait for the count (test/adapters/purge-quota-counts.test.ts).
        '--resource-quota-sync-period=15s',
      ],
    };
  },
  ready: async (ctx) => {
    const res = await http(`https://127.0.0.1:${ctx.ports.controllerManager}/healthz`, { rejectUnauthorized: false });
    return res.status === 200;
  },
  async afterReady(ctx) {
    // Until clusterrole-aggregation ran, the built-in admin/edit/view roles have no rules.
    await waitFor('ClusterRole edit aggregated', async () => {
      const res = await apiserverGet(ctx, '/apis/rbac.authorization.k8s.io/v1/clusterroles/edit');
      if (res.status !== 200) return false;
      const role = JSON.parse(res.body) as { rules?: unknown[] };
      return (role.rules?.length ?? 0) > 0;
    }, { timeoutMs: 60_000 });
  },
  where: (ctx) => `https://127.0.0.1:${ctx.ports.controllerManager}/healthz`,
};
