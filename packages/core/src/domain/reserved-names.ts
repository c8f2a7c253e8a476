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

/** Compiled patterns, by pattern: a setting's few dozen entries, compiled once, not per request. */
const compiled = new Map<string, RegExp>();

/** `*` matches any run of characters (none included); everything else is literal. */
function patternRegExp(pattern: string): RegExp {
  let regExp = compiled.get(pattern);
  if (!regExp) {
    const parts = pattern.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    regExp = new RegExp(`^${parts.join('.*')}$`);
    compiled.set(pattern, regExp);
  }
  return regExp;
}

/** The first pattern that reserves `name`, or undefined when the name is free. */
export function reservedBy(name: string, patterns: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  return patterns.find((pattern) => patternRegExp(pattern).test(lower));
}
