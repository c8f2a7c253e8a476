// The Node flags the shipped api and worker start with: the `args` of their containers in
// k8s/base/{api,worker}.yaml, the one source the deployment and the bench both read, so that
// every bench part measures the processes as they are deployed.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

export type Component = 'api' | 'worker';

export const API_ENTRY = 'apps/api/dist/main.js';
export const WORKER_ENTRY = 'apps/worker/dist/main.js';
export const ENTRIES: Record<Component, string> = { api: API_ENTRY, worker: WORKER_ENTRY };

interface Container {
  name?: string;
  args?: string[];
  env?: { name: string; value?: string }[];
  resources?: { limits?: { memory?: string } };
}

/** The component's container in its manifest's Deployment. */
export function shippedContainer(root: string, component: Component): Container {
  const manifest = readFileSync(join(root, `k8s/base/${component}.yaml`), 'utf8');
  for (const doc of parseAllDocuments(manifest)) {
    const object = doc.toJS() as { kind?: string; spec?: { template?: { spec?: { containers?: Container[] } } } } | null;
    if (object?.kind !== 'Deployment') continue;
    const container = object.spec?.template?.spec?.containers?.find((c) => c.name === component);
    if (container) return container;
  }
  throw new Error(`k8s/base/${component}.yaml: no ${component} Deployment`);
}

/** The flags between `node` and the component's entry in the manifest's `args`. */
export function shippedNodeFlags(root: string, component: Component): string[] {
  const args = shippedContainer(root, component).args ?? [];
  const entry = args.indexOf(ENTRIES[component]);
  if (args[0] !== 'node' || entry < 1) throw new Error(`k8s/base/${component}.yaml: ${component} args ${JSON.stringify(args)} do not run node ${ENTRIES[component]}`);
  return args.slice(1, entry);
}

/** The flags for a built entry the bench starts: the manifest's for api and worker, none for its own servers. */
export function nodeFlagsFor(root: string, entry: string): string[] {
  const component = (Object.keys(ENTRIES) as Component[]).find((name) => ENTRIES[name] === entry);
  return component ? shippedNodeFlags(root, component) : [];
}

/** The C library's tuning the manifests set (glibc reads these at start): part of how a process is deployed. */
export const MALLOC_ENV = ['MALLOC_TRIM_THRESHOLD_', 'MALLOC_MMAP_THRESHOLD_'] as const;

/** The manifest's malloc settings of the component's container (none: glibc's defaults). */
export function shippedMallocEnv(root: string, component: Component): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of shippedContainer(root, component).env ?? []) {
    if ((MALLOC_ENV as readonly string[]).includes(entry.name) && entry.value !== undefined) env[entry.name] = entry.value;
  }
  return env;
}

/** The malloc settings for a built entry the bench starts: the manifest's for api and worker, none for its own servers. */
export function mallocEnvFor(root: string, entry: string): Record<string, string> {
  const component = (Object.keys(ENTRIES) as Component[]).find((name) => ENTRIES[name] === entry);
  return component ? shippedMallocEnv(root, component) : {};
}
