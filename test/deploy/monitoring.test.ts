// k8s/components/monitoring and the docker compose Grafana/Prometheus: they scrape the pods
// and ports the service really has, and Grafana loads the dashboard of the repo.
// (That the rules and panels read real metrics: test/e2e/observability-contract.test.ts.)
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type Manifest, renderWithComponents, repoRoot } from '../helpers/service-account-kubeconfig.js';

type PodMonitor = Manifest & {
  spec: {
    selector: { matchLabels: Record<string, string>; matchExpressions?: { key: string; operator: string; values: string[] }[] };
    podMetricsEndpoints: { port: string; path: string; authorization?: { type: string; credentials: SecretKey } }[];
  };
};
type SecretKey = { name: string; key: string };
type Container = { ports?: { name: string }[]; env?: { name: string; valueFrom?: { secretKeyRef?: SecretKey } }[] };
type Deployment = Manifest & {
  spec: { template: { metadata: { labels: Record<string, string> }; spec: { containers: Container[] } } };
};

const read = (path: string): string => readFileSync(join(repoRoot, path), 'utf8');

describe('k8s/components/monitoring', () => {
  it('renders a PodMonitor that reaches the metrics port of every api and worker pod, and the PrometheusRule', async () => {
    const objects = await renderWithComponents(['monitoring']);
    const monitor = objects.find((o) => o.kind === 'PodMonitor') as PodMonitor | undefined;
    expect(monitor?.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(objects.find((o) => o.kind === 'PrometheusRule')?.metadata.namespace).toBe(monitor?.metadata.namespace);
    const selects = (labels: Record<string, string>): boolean =>
      Object.entries(monitor?.spec.selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v) &&
      (monitor?.spec.selector.matchExpressions ?? []).every((e) => e.operator === 'In' && e.values.includes(labels[e.key] ?? ''));
    for (const name of ['api', 'worker']) {
      const deployment = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === name) as Deployment;
      expect(selects(deployment.spec.template.metadata.labels), name).toBe(true);
      const ports = deployment.spec.template.spec.containers.flatMap((c) => (c.ports ?? []).map((p) => p.name));
      const scraped = (monitor?.spec.podMetricsEndpoints ?? []).filter((e) => ports.includes(e.port));
      expect(scraped.map((e) => e.path), name).toEqual(['/metrics']);
    }
    // Redis and anything else of the installation is not scraped as if it were ours.
    expect(selects({ 'app.kubernetes.io/name': 'k8s-user-provisioner', 'app.kubernetes.io/component': 'redis' })).toBe(false);
  });

  it('scrapes each component with the token that component checks', async () => {
    const objects = await renderWithComponents(['monitoring']);
    const monitor = objects.find((o) => o.kind === 'PodMonitor') as PodMonitor;
    const endpointOf = (name: string) => {
      const containers = (objects.find((o) => o.kind === 'Deployment' && o.metadata.name === name) as Deployment).spec.template.spec.containers;
      const ports = containers.flatMap((c) => (c.ports ?? []).map((p) => p.name));
      const env = containers.flatMap((c) => c.env ?? []);
      return { endpoint: monitor.spec.podMetricsEndpoints.find((e) => ports.includes(e.port)), env };
    };
    // The worker checks WORKER_METRICS_TOKEN: Prometheus sends the very Secret key the worker reads.
    const worker = endpointOf('worker');
    const workerToken = worker.env.find((e) => e.name === 'WORKER_METRICS_TOKEN')?.valueFrom?.secretKeyRef;
    expect(workerToken).toMatchObject({ name: 'k8s-user-provisioner', key: 'WORKER_METRICS_TOKEN' });
    expect(worker.endpoint?.authorization).toEqual({ type: 'Bearer', credentials: { name: workerToken?.name, key: workerToken?.key } });
    // The api checks API_TOKENS (a list): Prometheus sends a token of its own, which operators add to that list.
    const api = endpointOf('api');
    expect(api.env.find((e) => e.name === 'API_TOKENS')?.valueFrom?.secretKeyRef).toBeTruthy();
    expect(api.env.map((e) => e.name)).not.toContain('WORKER_METRICS_TOKEN');
    expect(api.endpoint?.authorization).toEqual({ type: 'Bearer', credentials: { name: 'k8s-user-provisioner-metrics', key: 'token' } });
    expect(read('docs/operations.md')).toMatch(/`k8s-user-provisioner-metrics`, key `token` \(one of `API_TOKENS`/);
  });
});

describe('docker compose: Prometheus and Grafana with the dashboard', () => {
  type Service = { environment?: Record<string, string>; volumes?: string[]; command?: string[] };
  const services = (parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, Service> }).services;

  it('scrapes the api (with a token) and the worker on the ports they listen on', () => {
    const config = parse(read('deploy/prometheus/prometheus.yml')) as {
      scrape_configs: { job_name: string; authorization?: { credentials_file?: string }; static_configs: { targets: string[] }[] }[];
    };
    const targets = Object.fromEntries(config.scrape_configs.map((c) => [c.job_name, c.static_configs.flatMap((s) => s.targets)]));
    expect(targets.api).toEqual([`api:${services.api?.environment?.PORT}`]);
    expect(targets.worker).toEqual([`worker:${services.worker?.environment?.WORKER_HEALTH_PORT}`]);
    const tokenFile = config.scrape_configs.find((c) => c.job_name === 'api')?.authorization?.credentials_file;
    expect(tokenFile).toBeTruthy();
    // The token is written at start from the environment, never kept in the repo.
    expect([services.prometheus?.command ?? []].flat().join('\n')).toContain(`> ${tokenFile}`);
    expect(read('deploy/prometheus/prometheus.yml')).not.toMatch(/credentials:/);
    expect(services.prometheus?.volumes).toContain('./deploy/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro');
  });

  it('provisions the Prometheus data source and the dashboard folder of the repo into Grafana', () => {
    const volumes = services.grafana?.volumes ?? [];
    const mounted = (target: string): string | undefined => volumes.find((v) => v.split(':')[1] === target)?.split(':')[0];
    const datasources = mounted('/etc/grafana/provisioning/datasources');
    const providers = mounted('/etc/grafana/provisioning/dashboards');
    expect(datasources).toBe('./deploy/grafana/provisioning/datasources');
    const ds = parse(read(join(datasources ?? '', 'prometheus.yaml'))) as { datasources: { type: string; url: string }[] };
    expect(ds.datasources[0]).toMatchObject({ type: 'prometheus', url: 'http://prometheus:9090' });
    const provider = parse(read(join(providers ?? '', 'k8s-user-provisioner.yaml'))) as { providers: { options: { path: string } }[] };
    const dashboards = mounted(provider.providers[0]?.options.path ?? '');
    expect(dashboards).toBe('./deploy/grafana/dashboards');
    expect(existsSync(join(repoRoot, dashboards ?? '', 'k8s-user-provisioner.json'))).toBe(true);
  });
});
