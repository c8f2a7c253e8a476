// The routes of Grafana's HTTP API that the provisioner calls, with Grafana's documented
// status codes, messages and permission checks (facts: grafana-admin-api.md).
import type { IncomingMessage } from 'node:http';
import { HttpError, intField, parseBasicAuth, parseId, readJsonBody, stringField } from './http.js';
import { hashPassword, verifyPassword } from './passwords.js';
import { ORG_ROLES, type OrgRole, type StoredUser, type UserStore } from './store.js';
import { DEFAULT_ORG_ID, newUid, now, orgUser, userProfile } from './users.js';

export const CONTRACT_VERSION = '11.0.0-contract';
const COMMIT = 'contract';
const KNOWN_ORGS = new Set([DEFAULT_ORG_ID]);
const MIN_PASSWORD_LENGTH = 4;

export type Answer = [status: number, body: unknown];
export type Route = (req: IncomingMessage, url: URL) => Promise<Answer>;

/** The request handler over `store`: resolves to the answer, or rejects with an HttpError. */
export function createRoutes(store: UserStore): Route {
  async function authenticate(req: IncomingMessage): Promise<StoredUser> {
    const creds = parseBasicAuth(req.headers.authorization);
    if (!creds) throw new HttpError(401, 'Unauthorized');
    const user = store.byLoginOrEmail(creds.user);
    if (!user || !(await verifyPassword(creds.password, user.passwordHash))) {
      throw new HttpError(401, 'Unauthorized');
    }
    // Re-read: the user may have been deleted while the key was derived.
    const current = store.byId(user.id);
    if (!current) throw new HttpError(401, 'Unauthorized');
    return current;
  }

  async function requireServerAdmin(req: IncomingMessage): Promise<StoredUser> {
    const user = await authenticate(req);
    if (!user.isGrafanaAdmin) throw new HttpError(403, 'Permission denied');
    return user;
  }

  async function requireOrgAdmin(req: IncomingMessage, orgId: number): Promise<StoredUser> {
    const user = await authenticate(req);
    if (!user.isGrafanaAdmin && !(user.orgId === orgId && user.role === 'Admin')) {
      throw new HttpError(403, 'Permission denied');
    }
    return user;
  }

  async function createUser(req: IncomingMessage): Promise<Answer> {
    await requireServerAdmin(req);
    const body = await readJsonBody(req);
    const formLogin = stringField(body, 'login');
    const formEmail = stringField(body, 'email');
    let login = formLogin.trim();
    let email = formEmail.trim();
    const name = stringField(body, 'name');
    const password = stringField(body, 'password');
    const requestedOrg = intField(body, 'OrgId');
    if (login === '' && email === '') {
      throw new HttpError(400, 'Validation error, need to specify either username or email');
    }
    if (password.length < MIN_PASSWORD_LENGTH) throw new HttpError(400, 'New password is too short');
    if (login === '') login = email;
    if (email === '') email = login;
    const orgId = requestedOrg > 0 ? requestedOrg : DEFAULT_ORG_ID;
    if (!KNOWN_ORGS.has(orgId)) throw new HttpError(400, 'organization not found');

    const passwordHash = await hashPassword(password);
    // Checked after the await so that concurrent creates cannot both pass.
    if (store.conflicts(login, email)) {
      // Grafana quotes the submitted form values, not the defaulted ones.
      throw new HttpError(412, `User with email '${formEmail}' or username '${formLogin}' already exists`);
    }
    const ts = now();
    const user = store.insert({
      uid: newUid(),
      login,
      email,
      name,
      passwordHash,
      orgId,
      role: 'Viewer',
      isGrafanaAdmin: false,
      createdAt: ts,
      updatedAt: ts,
    });
    return [200, { id: user.id, uid: user.uid, message: 'User created' }];
  }

  async function deleteUser(req: IncomingMessage, rawId: string): Promise<Answer> {
    await requireServerAdmin(req);
    const id = parseId(rawId, 'id');
    if (!store.remove(id)) throw new HttpError(404, 'user not found');
    return [200, { message: 'User deleted' }];
  }

  async function setPassword(req: IncomingMessage, rawId: string): Promise<Answer> {
    await requireServerAdmin(req);
    const id = parseId(rawId, 'id');
    const body = await readJsonBody(req);
    const password = stringField(body, 'password');
    if (password.length < MIN_PASSWORD_LENGTH) throw new HttpError(400, 'New password is too short');
    const passwordHash = await hashPassword(password);
    const user = store.byId(id);
    if (!user) throw new HttpError(404, 'user not found');
    store.update({ ...user, passwordHash, updatedAt: now() });
    return [200, { message: 'User password updated' }];
  }

  async function lookup(req: IncomingMessage, url: URL): Promise<Answer> {
    await requireServerAdmin(req);
    const user = store.byLoginOrEmail(url.searchParams.get('loginOrEmail') ?? '');
    if (!user) throw new HttpError(404, 'user not found');
    return [200, userProfile(user)];
  }

  /** `GET /api/users/:id`: a server admin reads any user's profile by id. */
  async function getUser(req: IncomingMessage, rawId: string): Promise<Answer> {
    await requireServerAdmin(req);
    const user = store.byId(parseId(rawId, 'id'));
    if (!user) throw new HttpError(404, 'user not found');
    return [200, userProfile(user)];
  }

  /**
   * `PUT /api/user`: signed-in users change their own login, email and name (Grafana's
   * "update signed in user"; no admin right needed). An empty login takes the email, and
   * an empty email or name leaves the stored one (Grafana's store skips zero values). A
   * login or email another user holds (any case) is a 409. Not modelled: external users
   * (403) and the email verification flow (off by default).
   */
  async function updateSignedInUser(req: IncomingMessage): Promise<Answer> {
    const user = await authenticate(req);
    const body = await readJsonBody(req);
    const email = stringField(body, 'email');
    const name = stringField(body, 'name');
    let login = stringField(body, 'login');
    if (login === '') login = email;
    if (login === '') throw new HttpError(400, 'Validation error, need to specify either username or email');
    const current = store.byId(user.id);
    if (!current) throw new HttpError(401, 'Unauthorized');
    const updated = { ...current, login, email: email === '' ? current.email : email, name: name === '' ? current.name : name };
    if (store.conflicts(updated.login, updated.email, current.id)) throw new HttpError(409, 'Update would result in user login conflict');
    store.update({ ...updated, updatedAt: now() });
    return [200, { message: 'User updated' }];
  }

  async function listOrgUsers(req: IncomingMessage, rawOrgId: string, url: URL): Promise<Answer> {
    const orgId = parseId(rawOrgId, 'orgId');
    await requireOrgAdmin(req, orgId);
    const query = (url.searchParams.get('query') ?? '').toLowerCase();
    const limit = Number(url.searchParams.get('limit') ?? '0');
    let users = store
      .all()
      .filter((u) => u.orgId === orgId)
      .filter(
        (u) =>
          query === '' ||
          u.login.toLowerCase().includes(query) ||
          u.email.toLowerCase().includes(query) ||
          u.name.toLowerCase().includes(query),
      );
    if (Number.isSafeInteger(limit) && limit > 0) users = users.slice(0, limit);
    return [200, users.map(orgUser)];
  }

  async function updateOrgUser(req: IncomingMessage, rawOrgId: string, rawUserId: string): Promise<Answer> {
    const orgId = parseId(rawOrgId, 'orgId');
    await requireOrgAdmin(req, orgId);
    const userId = parseId(rawUserId, 'userId');
    const body = await readJsonBody(req);
    const role = stringField(body, 'role');
    if (!(ORG_ROLES as readonly string[]).includes(role)) throw new HttpError(400, 'Invalid role specified');
    const user = store.byId(userId);
    if (!user || user.orgId !== orgId) throw new HttpError(404, 'user not found');
    if (user.role === 'Admin' && role !== 'Admin') {
      const otherAdmins = store.all().filter((u) => u.orgId === orgId && u.role === 'Admin' && u.id !== user.id);
      if (otherAdmins.length === 0) {
        throw new HttpError(400, 'Cannot change role so that there is no organization admin left');
      }
    }
    store.update({ ...user, role: role as OrgRole, updatedAt: now() });
    return [200, { message: 'Organization user updated' }];
  }

  return async function route(req: IncomingMessage, url: URL): Promise<Answer> {
    const method = req.method ?? 'GET';
    const path = url.pathname.replace(/\/+$/, '') || '/';
    let parts: string[];
    try {
      parts = path.split('/').slice(1).map(decodeURIComponent);
    } catch {
      throw new HttpError(400, 'bad request data');
    }

    if (method === 'GET' && path === '/api/health') {
      return [200, { commit: COMMIT, database: 'ok', version: CONTRACT_VERSION }];
    }
    if (method === 'GET' && path === '/api/user') {
      return [200, userProfile(await authenticate(req))];
    }
    if (method === 'PUT' && path === '/api/user') return updateSignedInUser(req);
    if (method === 'GET' && path === '/api/users/lookup') return lookup(req, url);
    // /api/users/:id (after /api/users/lookup, which the pattern would also match)
    if (method === 'GET' && parts.length === 3 && parts[0] === 'api' && parts[1] === 'users' && parts[2] !== undefined) return getUser(req, parts[2]);
    if (method === 'POST' && path === '/api/admin/users') return createUser(req);

    // /api/admin/users/:id and /api/admin/users/:id/password
    if (parts[0] === 'api' && parts[1] === 'admin' && parts[2] === 'users' && parts[3] !== undefined) {
      if (method === 'DELETE' && parts.length === 4) return deleteUser(req, parts[3]);
      if (method === 'PUT' && parts.length === 5 && parts[4] === 'password') return setPassword(req, parts[3]);
    }
    // /api/orgs/:orgId/users and /api/orgs/:orgId/users/:userId
    if (parts[0] === 'api' && parts[1] === 'orgs' && parts[2] !== undefined && parts[3] === 'users') {
      if (method === 'GET' && parts.length === 4) return listOrgUsers(req, parts[2], url);
      if (method === 'PATCH' && parts.length === 5 && parts[4] !== undefined) {
        return updateOrgUser(req, parts[2], parts[4]);
      }
    }
    throw new HttpError(404, 'Not found');
  };
}
