// The Node flags the shipped worker starts with: the `args` of the worker container in
// k8s/base/worker.yaml, the one source the deployment and the bench both read, so that
// every bench part measures the worker as it is deployed.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

export const WORKER_ENTRY = 'apps/worker/dist/main.js';

interface Container {
  name?: string;
  args?: string[];
}

/** The flags between `node` and the worker's entry in the manifest's `args`. */
export function shippedWorkerNodeFlags(root: string): string[] {
  const manifest = readFileSync(join(root, 'k8s/base/worker.yaml'), 'utf8');
  for (const doc of parseAllDocuments(manifest)) {
    const object = doc.toJS() as { kind?: string; spec?: { template?: { spec?: { containers?: Container[] } } } } | null;
    if (object?.kind !== 'Deployment') continue;
    const args = object.spec?.template?.spec?.containers?.find((container) => container.name === 'worker')?.args ?? [];
    const entry = args.indexOf(WORKER_ENTRY);
    if (args[0] !== 'node' || entry < 1) throw new Error(`k8s/base/worker.yaml: worker args ${JSON.stringify(args)} do not run node ${WORKER_ENTRY}`);
    return args.slice(1, entry);
  }
  throw new Error('k8s/base/worker.yaml: no worker Deployment');
}
