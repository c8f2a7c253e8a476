import { isIPv6 } from 'node:net';
import type { KubeObject } from '../ports/cluster-gateway.js';

/**
 * The playground's NetworkPolicies. Kubernetes stores them whatever the cluster runs; only
 * a CNI that enforces NetworkPolicy (Calico, Cilium, …) makes them stop traffic.
 */
export const NETWORK_POLICY_NAME = 'default-deny';
export const EGRESS_POLICY_NAME = 'deny-egress-restricted';

/** Deny all ingress from outside the namespace; pods of the playground still talk. */
export function defaultDenyPolicy(namespace: string, labels: Record<string, string>): KubeObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: NETWORK_POLICY_NAME, namespace, labels },
    spec: { podSelector: {}, policyTypes: ['Ingress'], ingress: [{ from: [{ podSelector: {} }] }] },
  };
}

/**
 * Egress anywhere but the denied CIDRs (the cloud metadata address, the control plane).
 * Pods of every namespace stay reachable through a namespaceSelector: some CNIs (Cilium)
 * never match pod addresses by ipBlock, so an ipBlock-only rule would cut pod-to-pod
 * traffic and cluster DNS there; other namespaces' default-deny still applies on their side.
 */
export function egressPolicy(namespace: string, labels: Record<string, string>, denied: readonly string[]): KubeObject {
  const v6 = denied.filter((cidr) => isIPv6(cidr.split('/')[0] ?? ''));
  const v4 = denied.filter((cidr) => !v6.includes(cidr));
  const block = (cidr: string, except: string[]) => ({ ipBlock: except.length > 0 ? { cidr, except } : { cidr } });
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: EGRESS_POLICY_NAME, namespace, labels },
    spec: {
      podSelector: {},
      policyTypes: ['Egress'],
      egress: [{ to: [{ namespaceSelector: {} }, block('0.0.0.0/0', v4), block('::/0', v6)] }],
    },
  };
}
