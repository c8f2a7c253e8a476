/**
 * Names a trainee may never take. A playground's namespace is created with the trainee's
 * username; a platform component installed later (Argo CD, cert-manager, an ingress
 * controller, monitoring…) expects its namespace to be free, and a trainee who already
 * holds it would hold that component's secrets and service accounts. Both the API (before
 * enqueueing) and the worker (before it makes the Keycloak user) refuse these.
 */
export const DEFAULT_RESERVED_NAMESPACES: readonly string[] = [
  'default',
  'kube-*',
  'k8s-user-provisioner',
  'k8s-provisioner',
  'argocd',
  'argo',
  'argo-*',
  'flux-system',
  'cert-manager',
  'ingress-nginx',
  'ingress',
  'traefik',
  'monitoring',
  'logging',
  'observability',
  'grafana',
  'prometheus',
  'loki',
  'tempo',
  'keycloak',
  'vault',
  'redis',
  'istio-system',
  'istio-*',
  'linkerd',
  'linkerd-*',
  'gatekeeper-system',
  'kyverno',
  'calico-*',
  'tigera-operator',
  'cilium',
  'cilium-*',
  'metallb-system',
  'local-path-storage',
  'longhorn-system',
  'velero',
  'keda',
  'external-dns',
  'external-secrets',
  'sealed-secrets',
  'openshift',
  'openshift-*',
  'cattle-*',
  'fleet-*',
  'system',
  '*-system',
];

/** A comma-separated setting into patterns: trimmed, lowercased, empty parts dropped. */
export function parseNamePatterns(raw: string): string[] {
  return raw
    .split(',')
    .map((part) => part.trim().toLowerCase())
    .filter((part) => part.length > 0);
}

/** `*` matches any run of characters (none included); everything else is literal. */
const patternSource = (pattern: string): string => pattern.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*');

/**
 * Compiled lists: a setting's few dozen patterns become one expression, compiled once rather
 * than tested one by one on every request (docs/benchmarks.md, P1); only a name that matches is
 * tested against each pattern, to say which one reserves it. Found by the array first (the
 * config's lists are made once), then by the patterns' text, so a caller that builds its list
 * afresh each time still compiles it once; the cap only keeps a caller with endless new lists
 * from growing the cache without end.
 */
type CompiledList = { any: RegExp; each: RegExp[] };
const byArray = new WeakMap<readonly string[], CompiledList>();
const byText = new Map<string, CompiledList>();
const MAX_COMPILED_LISTS = 32;

function compiledList(patterns: readonly string[]): CompiledList {
  let list = byArray.get(patterns);
  if (list) return list;
  const key = JSON.stringify(patterns);
  list = byText.get(key);
  if (!list) {
    const sources = patterns.map(patternSource);
    list = { any: new RegExp(`^(?:${sources.join('|')})$`), each: sources.map((source) => new RegExp(`^${source}$`)) };
    if (byText.size >= MAX_COMPILED_LISTS) byText.clear();
    byText.set(key, list);
  }
  byArray.set(patterns, list);
  return list;
}

/** The first pattern that reserves `name`, or undefined when the name is free. */
export function reservedBy(name: string, patterns: readonly string[]): string | undefined {
  if (patterns.length === 0) return undefined;
  const lower = name.toLowerCase();
  const list = compiledList(patterns);
  if (!list.any.test(lower)) return undefined;
  return patterns.find((_pattern, index) => list.each[index]?.test(lower));
}
