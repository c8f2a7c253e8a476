import { afterAll, describe, expect, it } from 'vitest';
import { adminUrl, createUser, deleteUser, env, provisionerToken, request, unique } from './helpers.js';

interface UserRepresentation {
  id: string;
  username: string;
  attributes?: Record<string, string[]>;
}

describe('stack: Keycloak', () => {
  const created: string[] = [];
  afterAll(async () => {
    const token = await provisionerToken();
    for (const id of created) await deleteUser(token, id);
  });

  it("gives the provisioner's client a client-credentials token that the admin API accepts", async () => {
    const token = await provisionerToken();
    const res = await request(adminUrl('/users?max=1&briefRepresentation=true'), { token });
    expect(res.status).toBe(200);
    expect(Array.isArray(JSON.parse(res.body))).toBe(true);
  });

  it('keeps the managed-by/provisioned attributes and finds the user by q=managed-by:k8s-provisioner', async () => {
    const token = await provisionerToken();
    const username = unique('kup-stack-attrs');
    const provisioned = new Date().toISOString();
    const id = await createUser(token, {
      username,
      enabled: true,
      attributes: { 'managed-by': ['k8s-provisioner'], provisioned: [provisioned], 'expires-at': ['2099-01-01T00:00:00Z'] },
    });
    created.push(id);

    const fetched = await request(adminUrl(`/users/${id}`), { token });
    expect(fetched.status).toBe(200);
    const user = JSON.parse(fetched.body) as UserRepresentation;
    expect(user.attributes?.['managed-by']).toEqual(['k8s-provisioner']);
    expect(user.attributes?.provisioned).toEqual([provisioned]);
    expect(user.attributes?.['expires-at']).toEqual(['2099-01-01T00:00:00Z']);

    const found = await request(adminUrl(`/users?q=${encodeURIComponent('managed-by:k8s-provisioner')}&max=1000`), { token });
    expect(found.status).toBe(200);
    const users = JSON.parse(found.body) as UserRepresentation[];
    expect(users.map((u) => u.username)).toContain(username);
    expect(users.every((u) => u.attributes?.['managed-by']?.includes('k8s-provisioner'))).toBe(true);
  });

  it('serves the issuer discovery document with the configured issuer', async () => {
    const res = await request(`${env('OIDC_ISSUER_URL')}/.well-known/openid-configuration`);
    expect(res.status).toBe(200);
    expect((JSON.parse(res.body) as { issuer: string }).issuer).toBe(env('OIDC_ISSUER_URL'));
  });
});
