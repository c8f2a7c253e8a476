// The fleet services' settings over the default playground, shared by their unit tests.
import { defaultPlaygroundSettings } from '../domain/trainee-plan.js';
import type { FleetSettings } from '../fleet/fleet-context.js';

export const fleetSettings: FleetSettings = {
  playground: defaultPlaygroundSettings('https://issuer.example/realms/playground', { TRAINEE_CLUSTER_ROLE: 'trainee' }),
  namespaceDeleteTimeoutMs: 1_000,
  grafanaOrgId: 1,
  grafanaRole: 'Viewer',
  defaultExpiryDays: 365,
};
