// biome-ignore-all lint/suspicious/noTemplateCurlyInString: '${...}' here are Keycloak message keys, literal text
// The stack's realm (deploy/keycloak/playground-realm.json is the same, checked by
// test/deploy/compose.test.ts), and what `stack:up` puts right in an existing one.
import type { StackContext } from './server.js';

export const keycloakNames = {
  realm: 'playground',
  clientId: 'k8s-provisioner',
  loginClientId: 'kubernetes',
} as const;

/** Attributes the provisioner writes; Keycloak 24+ drops attributes its user profile does not declare. */
export const declaredAttributes = ['managed-by', 'provisioned', 'expires-at', 'grafana-user-id', 'quota-profile'];

/** kubelogin's local callback: port 8000, or 18000 when 8000 is taken. */
export const KUBELOGIN_REDIRECT_URIS = ['http://localhost:8000', 'http://localhost:18000'];

/**
 * What the public client trainees log in with needs for both kubeconfig plugins: the device
 * authorization grant (`provisioner credential` on a terminal), direct access grants (its
 * password grant, for scripts and tests), the standard flow with PKCE for kubelogin's browser
 * login. No client secret: it is public, the apiserver only checks the token's audience.
 */
export const loginClientSettings = {
  publicClient: true,
  standardFlowEnabled: true,
  implicitFlowEnabled: false,
  directAccessGrantsEnabled: true,
  redirectUris: KUBELOGIN_REDIRECT_URIS,
  attributes: {
    'oauth2.device.authorization.grant.enabled': 'true',
    'pkce.code.challenge.method': 'S256',
  },
};

/**
 * The realm's user profile. Trainees see their email and name but only admins (the provisioner)
 * change them: the worker tells a trainee by the email it enrolled (delete's `sameCaller`,
 * the namespace's email annotation, the Grafana account's email) and by the full name (a
 * create judged against an existing user), and Keycloak refuses a second user with an email
 * someone holds. Editable by the user, a trainee could escape `DELETE /provisioner`, take
 * another person's address before their enrolment, and rename themselves in every record.
 * `username` stays read-only through the realm's `editUsernameAllowed: false` (the default).
 */
export const userProfile = {
  attributes: [
    {
      name: 'username', displayName: '${username}',
      validations: { length: { min: 3, max: 255 }, 'username-prohibited-characters': {}, 'up-username-not-idn-homograph': {} },
      permissions: { view: ['admin', 'user'], edit: ['admin', 'user'] }, multivalued: false,
    },
    {
      name: 'email', displayName: '${email}',
      validations: { email: {}, length: { max: 255 } },
      permissions: { view: ['admin', 'user'], edit: ['admin'] }, multivalued: false,
    },
    {
      name: 'firstName', displayName: '${firstName}',
      validations: { length: { max: 255 }, 'person-name-prohibited-characters': {} },
      permissions: { view: ['admin', 'user'], edit: ['admin'] }, multivalued: false,
    },
    {
      name: 'lastName', displayName: '${lastName}',
      validations: { length: { max: 255 }, 'person-name-prohibited-characters': {} },
      permissions: { view: ['admin', 'user'], edit: ['admin'] }, multivalued: false,
    },
    ...declaredAttributes.map((name) => ({
      name, displayName: name, group: 'provisioner',
      permissions: { view: ['admin'], edit: ['admin'] }, multivalued: false,
    })),
  ],
  groups: [
    { name: 'user-metadata', displayHeader: 'User metadata', displayDescription: 'Attributes, which refer to user metadata' },
    { name: 'provisioner', displayHeader: 'Provisioner', displayDescription: 'Written by k8s-user-provisioner' },
  ],
};

export function realmRepresentation(ctx: StackContext): Record<string, unknown> {
  return {
    realm: keycloakNames.realm,
    enabled: true,
    sslRequired: 'external',
    registrationAllowed: false,
    clients: [
      {
        clientId: keycloakNames.clientId,
        name: 'k8s-user-provisioner',
        enabled: true,
        protocol: 'openid-connect',
        publicClient: false,
        clientAuthenticatorType: 'client-secret',
        secret: ctx.secrets.keycloakClientSecret,
        serviceAccountsEnabled: true,
        standardFlowEnabled: false,
        implicitFlowEnabled: false,
        directAccessGrantsEnabled: false,
      },
      {
        clientId: keycloakNames.loginClientId,
        name: 'Kubernetes login',
        enabled: true,
        protocol: 'openid-connect',
        ...loginClientSettings,
        protocolMappers: [
          {
            name: 'groups',
            protocol: 'openid-connect',
            protocolMapper: 'oidc-group-membership-mapper',
            consentRequired: false,
            config: {
              'claim.name': 'groups', 'full.path': 'false',
              'id.token.claim': 'true', 'access.token.claim': 'true', 'userinfo.token.claim': 'true',
            },
          },
          {
            name: 'kubernetes audience',
            protocol: 'openid-connect',
            protocolMapper: 'oidc-audience-mapper',
            consentRequired: false,
            config: {
              'included.client.audience': keycloakNames.loginClientId,
              'id.token.claim': 'true', 'access.token.claim': 'true',
            },
          },
        ],
      },
    ],
    users: [
      {
        username: `service-account-${keycloakNames.clientId}`,
        enabled: true,
        serviceAccountClientId: keycloakNames.clientId,
        clientRoles: { 'realm-management': ['manage-users', 'view-users', 'query-users'] },
      },
    ],
    components: {
      'org.keycloak.userprofile.UserProfileProvider': [
        {
          providerId: 'declarative-user-profile',
          subComponents: {},
          config: { 'kc.user.profile.config': [JSON.stringify(userProfile)] },
        },
      ],
    },
  };
}


type AdminCall = (method: string, path: string, body?: unknown) => Promise<{ status: number; body: string }>;
interface ClientRepresentation { id: string; attributes?: Record<string, string>; [key: string]: unknown }

/** The login client's settings missing from `client` (by name), none when it is up to date. */
export function loginClientDrift(client: ClientRepresentation): string[] {
  const { attributes, ...fields } = loginClientSettings;
  // Keycloak keeps redirect URIs as a set: compare them in any order.
  const same = (a: unknown, b: unknown) => (Array.isArray(a) && Array.isArray(b) ? JSON.stringify([...a].sort()) === JSON.stringify([...b].sort()) : a === b);
  const drift = Object.entries(fields).filter(([key, value]) => !same(client[key], value)).map(([key]) => key);
  for (const [key, value] of Object.entries(attributes)) if (client.attributes?.[key] !== value) drift.push(key);
  return drift;
}

/**
 * Puts the login client's grant settings right in a realm imported before they existed, so
 * `stack:up` updates a running stack without a wipe. Idempotent: no change, no write.
 */
export async function ensureLoginClient(admin: AdminCall, log: (line: string) => void): Promise<void> {
  const path = `/${keycloakNames.realm}/clients`;
  const found = await admin('GET', `${path}?clientId=${encodeURIComponent(keycloakNames.loginClientId)}`);
  if (found.status !== 200) throw new Error(`keycloak: GET login client: ${found.status} ${found.body}`);
  const client = (JSON.parse(found.body) as ClientRepresentation[])[0];
  if (!client) throw new Error(`keycloak: realm ${keycloakNames.realm} has no client ${keycloakNames.loginClientId}`);
  const drift = loginClientDrift(client);
  if (drift.length === 0) return;
  log(`keycloak: updating client ${keycloakNames.loginClientId} (${drift.join(', ')})`);
  const body = { ...client, ...loginClientSettings, attributes: { ...client.attributes, ...loginClientSettings.attributes } };
  const put = await admin('PUT', `${path}/${client.id}`, body);
  if (put.status !== 204) throw new Error(`keycloak: PUT login client: ${put.status} ${put.body}`);
}

interface ProfileAttribute { name: string; permissions?: { view?: string[]; edit?: string[] } }

/**
 * What `profile` lacks of the stack's user profile (by attribute name), none when it is up to
 * date: an attribute of ours missing (Keycloak would drop it), or one whose view or edit
 * rights differ from ours (an email trainees may edit, in a realm imported before it was
 * admin-only).
 */
export function userProfileDrift(profile: { attributes?: ProfileAttribute[] }): string[] {
  const sameSet = (a: string[] | undefined, b: string[]) => JSON.stringify([...(a ?? [])].sort()) === JSON.stringify([...b].sort());
  const found = new Map((profile.attributes ?? []).map((a) => [a.name, a]));
  return userProfile.attributes
    .filter(({ name, permissions }) => {
      const current = found.get(name);
      return !current || !sameSet(current.permissions?.view, permissions.view) || !sameSet(current.permissions?.edit, permissions.edit);
    })
    .map(({ name }) => name);
}

/**
 * Declares our attributes and puts the rights of the profile's attributes right in a realm
 * imported before them, so `stack:up` updates a running stack without a wipe: the stack's
 * profile is written whole. Idempotent: no change, no write.
 */
export async function ensureUserProfile(admin: AdminCall, log: (line: string) => void): Promise<void> {
  const path = `/${keycloakNames.realm}/users/profile`;
  const found = await admin('GET', path);
  if (found.status !== 200) throw new Error(`keycloak: GET user profile: ${found.status} ${found.body}`);
  const drift = userProfileDrift(JSON.parse(found.body) as { attributes?: ProfileAttribute[] });
  if (drift.length === 0) return;
  log(`keycloak: updating the user profile (${drift.join(', ')})`);
  const put = await admin('PUT', path, userProfile);
  if (put.status !== 200) throw new Error(`keycloak: PUT user profile: ${put.status} ${put.body}`);
}
