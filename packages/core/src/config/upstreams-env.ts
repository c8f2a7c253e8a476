import { z } from 'zod';
import { EXAMPLE_SECRET, bool, int, notExample, url } from './schema-helpers.js';

/** How the worker reaches Kubernetes, Keycloak and Grafana. */
export const upstreamsEnvShape = {
  KUBECONFIG: z.string().optional(),
  /** The kubeconfig itself, as JSON, in the variable (the older deployments' form). Used only when KUBECONFIG is unset. */
  KUBE_CONFIG: z
    .string()
    .refine((raw) => {
      try {
        const parsed: unknown = JSON.parse(raw);
        return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed);
      } catch {
        return false;
      }
    }, "must be a kubeconfig as JSON (the old service's format)")
    .optional(),
  KEYCLOAK_URL: url,
  KEYCLOAK_REALM: z.string().min(1),
  KEYCLOAK_CLIENT_ID: z.string().min(1),
  KEYCLOAK_CLIENT_SECRET: z.string().min(1).refine(notExample, EXAMPLE_SECRET),
  /** Create users with `emailVerified: true`: only when callers verify trainees' emails themselves. */
  KEYCLOAK_EMAIL_VERIFIED: bool(false),
  GRAFANA_URL: url,
  GRAFANA_ADMIN_USER: z.string().min(1),
  GRAFANA_ADMIN_PASSWORD: z.string().min(1).refine(notExample, EXAMPLE_SECRET),
  GRAFANA_ORG_ID: int(1, 1),
  GRAFANA_ROLE: z.enum(['Viewer', 'Editor', 'Admin', 'None']).default('Viewer'),
  /** Upstream HTTP calls are abandoned after this many milliseconds. */
  UPSTREAM_TIMEOUT_MS: int(15_000, 100),
};
