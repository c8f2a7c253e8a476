// The old service's reset, as its code does it (the P3 baseline): one namespace after the
// other, and in each one delete-collection per namespaced resource type that discovery
// lists, except resourcequotas and rolebindings. Discovery runs once (kinder to the
// baseline than once per namespace). Requests go through @kubernetes/client-node's
// kubeconfig handling (TLS, client certificate) on a keep-alive agent.
import { Agent, request, type RequestOptions } from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';

const SKIPPED = new Set(['resourcequotas', 'rolebindings']);

export class KubeRaw {
  readonly #kc = new KubeConfig();
  readonly #server: URL;
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 16 });

  constructor(kubeconfigFile: string) {
    this.#kc.loadFromFile(kubeconfigFile);
    const cluster = this.#kc.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no current cluster');
    this.#server = new URL(cluster.server);
  }

  async send(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
    const options: RequestOptions = {
      method,
      host: this.#server.hostname,
      port: this.#server.port,
      path,
      agent: this.#agent,
      headers: { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    };
    await this.#kc.applyToHTTPSOptions(options);
    options.agent = this.#agent;
    return new Promise((resolve, reject) => {
      const req = request(options, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, json: text ? (JSON.parse(text) as unknown) : undefined });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}

interface ResourceList {
  resources: { name: string; namespaced: boolean; verbs?: string[] }[];
}

/** Collection URL templates (`…/namespaces/{ns}/<plural>`) of every purgeable namespaced type. */
export async function discoverPurgeable(kube: KubeRaw): Promise<string[]> {
  const lists: { base: string; list: ResourceList }[] = [];
  lists.push({ base: '/api/v1', list: (await kube.send('GET', '/api/v1')).json as ResourceList });
  const groups = (await kube.send('GET', '/apis')).json as { groups: { preferredVersion: { groupVersion: string } }[] };
  for (const group of groups.groups) {
    const base = `/apis/${group.preferredVersion.groupVersion}`;
    lists.push({ base, list: (await kube.send('GET', base)).json as ResourceList });
  }
  return lists.flatMap(({ base, list }) =>
    list.resources
      .filter((r) => r.namespaced && !r.name.includes('/') && !SKIPPED.has(r.name) && r.verbs?.includes('deletecollection'))
      .map((r) => `${base}/namespaces/{ns}/${r.name}`),
  );
}

/** The old algorithm: sequential namespaces, sequential types. Returns the number of requests. */
export async function oldReset(kube: KubeRaw, namespaces: readonly string[]): Promise<number> {
  const types = await discoverPurgeable(kube);
  let requests = 0;
  for (const ns of namespaces) {
    for (const type of types) {
      const { status } = await kube.send('DELETE', type.replace('{ns}', ns));
      requests += 1;
      if (status >= 400 && status !== 404 && status !== 405) throw new Error(`delete-collection ${type} in ${ns}: ${status}`);
    }
  }
  return requests;
}
