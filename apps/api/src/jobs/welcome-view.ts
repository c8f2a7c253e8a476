import { z } from 'zod';

/** What `buildWelcome` gives (core trainees/welcome.ts), as the API documents it: on GET /trainees/:username/welcome and in a create's result. */
export const welcomeJson = z
  .object({
    username: z.string(),
    email: z.string().nullable(),
    namespace: z.string(),
    expiresAt: z.string().nullable(),
    grafanaUrl: z.string().nullable(),
    cluster: z
      .object({
        serverUrl: z.string(),
        issuerUrl: z.string(),
        clientId: z.string(),
        plugin: z.enum(['provisioner', 'kubelogin']),
        kubeconfig: z.string(),
        kubeconfigUrl: z.string().nullable(),
      })
      .nullable(),
    steps: z.array(z.string()),
  })
  .meta({
    id: 'Welcome',
    examples: [
      {
        username: 'jean-dupont',
        email: 'jean.dupont@example.org',
        namespace: 'jean-dupont',
        expiresAt: '2027-03-31T18:00:00.000Z',
        grafanaUrl: 'https://grafana.example.org',
        cluster: {
          serverUrl: 'https://k8s.example.org:6443',
          issuerUrl: 'https://sso.example.org/realms/playground',
          clientId: 'kubernetes',
          plugin: 'provisioner',
          kubeconfig: 'apiVersion: v1\nkind: Config\n…',
          kubeconfigUrl: 'https://provisioner.example.org/trainees/jean-dupont/kubeconfig',
        },
        steps: ['Install kubectl …', 'Save the kubeconfig below as ~/.kube/config …'],
      },
    ],
  });
