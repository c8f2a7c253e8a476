// A contract server for the part of Grafana's HTTP API that the provisioner uses.
//
// Test tooling only: it follows the documented behaviour of Grafana's admin/user/org-user
// API (docs/…/grafana-admin-api.md facts: status codes, bodies, uniqueness rules) so the
// local stack and the test suite have something real to talk to where Grafana itself
// (AGPL, no package reachable here) cannot run. No Grafana code is copied.
import { createHash, pbkdf2 as pbkdf2Cb, pbkdf2Sync, randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import { promisify } from 'node:util';

const scrypt = promisify(scryptCb) as (password: string, salt: Buffer, keylen: number) => Promise<Buffer>;
const pbkdf2 = promisify(pbkdf2Cb);

export const CONTRACT_VERSION = '11.0.0-contract';
const COMMIT = 'contract';
const DEFAULT_ORG_ID = 1;
const KNOWN_ORGS = new Set([DEFAULT_ORG_ID]);
const MIN_PASSWORD_LENGTH = 4;
const MAX_BODY_BYTES = 1024 * 1024;

export type OrgRole = 'Viewer' | 'Editor' | 'Admin' | 'None';
const ORG_ROLES: readonly OrgRole[] = ['Viewer', 'Editor', 'Admin', 'None'];

export interface StoredUser {
  id: number;
  uid: string;
  login: string;
  email: string;
  name: string;
  /** `pbkdf2-sha256$<saltHex>$<hashHex>` (or `scrypt$…` from earlier versions) */
  passwordHash: string;
  orgId: number;
  role: OrgRole;
  isGrafanaAdmin: boolean;
  createdAt: string;
  updatedAt: string;
}

interface StateFile {
  version: 1;
  nextId: number;
  users: StoredUser[];
}

export interface GrafanaContractServerOptions {
  adminUser: string;
  adminPassword: string;
  /** JSON file the users are kept in; loaded at start, rewritten on every change. */
  dataFile?: string;
}

export interface GrafanaContractServer {
  /** Resolves to the base URL, e.g. `http://127.0.0.1:41234`. Port 0 picks a free port. */
  listen(port: number, host?: string): Promise<string>;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

// ---------------------------------------------------------------- passwords

// As Grafana stores them (pkg/util EncodePassword): PBKDF2-SHA256, 10,000 iterations,
// 50 bytes, with a random salt, so the stand-in costs about what Grafana costs per user.
const PBKDF2 = { scheme: 'pbkdf2-sha256', iterations: 10_000, keylen: 50 } as const;

function encodeHash(salt: Buffer, hash: Buffer): string {
  return `${PBKDF2.scheme}$${salt.toString('hex')}$${hash.toString('hex')}`;
}

async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(10);
  return encodeHash(salt, await pbkdf2(password, salt, PBKDF2.iterations, PBKDF2.keylen, 'sha256'));
}

function hashPasswordSync(password: string): string {
  const salt = randomBytes(10);
  return encodeHash(salt, pbkdf2Sync(password, salt, PBKDF2.iterations, PBKDF2.keylen, 'sha256'));
}

/** Derives the key again with the stored scheme; `scrypt$…` hashes come from data files of earlier versions. */
function derive(scheme: string, password: string, salt: Buffer, keylen: number): Promise<Buffer> | undefined {
  if (scheme === PBKDF2.scheme) return pbkdf2(password, salt, PBKDF2.iterations, keylen, 'sha256');
  if (scheme === 'scrypt') return scrypt(password, salt, keylen);
  return undefined;
}

// Successful verifications are remembered (per stored hash) so that every admin request
// does not pay for a full key derivation; a changed password changes the stored hash.
const verified = new Map<string, string>();

async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const digest = createHash('sha256').update(password).digest('hex');
  if (verified.get(stored) === digest) return true;
  const [scheme, saltHex, hashHex] = stored.split('$');
  if (scheme === undefined || saltHex === undefined || hashHex === undefined) return false;
  const expected = Buffer.from(hashHex, 'hex');
  const actual = await derive(scheme, password, Buffer.from(saltHex, 'hex'), expected.length);
  const ok = actual !== undefined && actual.length === expected.length && timingSafeEqual(actual, expected);
  if (ok) {
    if (verified.size > 10_000) verified.clear();
    verified.set(stored, digest);
  }
  return ok;
}

// ---------------------------------------------------------------- helpers

function now(): string {
  // Grafana renders Go time.Time values as RFC 3339 without fractional seconds.
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const UID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
function newUid(): string {
  const bytes = randomBytes(14);
  let uid = '';
  for (const b of bytes) uid += UID_ALPHABET[b % UID_ALPHABET.length];
  return uid;
}

function avatarUrl(email: string): string {
  return `/avatar/${createHash('md5').update(email.trim().toLowerCase()).digest('hex')}`;
}

function sameText(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/** Parses a path id the way Grafana does (a base-10 int64); throws 400 `<name> is invalid`. */
function parseId(raw: string, name: string): number {
  if (!/^[+-]?\d+$/.test(raw)) throw new HttpError(400, `${name} is invalid`);
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) throw new HttpError(400, `${name} is invalid`);
  return n;
}

type JsonObject = Record<string, unknown>;

/** Go's encoding/json matches object keys to struct fields case-insensitively. */
function field(body: JsonObject, name: string): unknown {
  if (name in body) return body[name];
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(body)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

function stringField(body: JsonObject, name: string): string {
  const v = field(body, name);
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new HttpError(400, 'bad request data');
  return v;
}

function intField(body: JsonObject, name: string): number {
  const v = field(body, name);
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new HttpError(400, 'bad request data');
  return v;
}

async function readJsonBody(req: IncomingMessage): Promise<JsonObject> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(400, 'bad request data');
    chunks.push(buf);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new HttpError(400, 'bad request data');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new HttpError(400, 'bad request data');
  }
  return parsed as JsonObject;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(payload),
    'cache-control': 'no-store',
  });
  res.end(payload);
}

function parseBasicAuth(header: string | undefined): { user: string; password: string } | undefined {
  if (!header) return undefined;
  const match = /^basic\s+(\S+)$/i.exec(header.trim());
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

// ---------------------------------------------------------------- state

class UserStore {
  private users = new Map<number, StoredUser>();
  private nextId = 1;

  constructor(private readonly dataFile: string | undefined) {}

  load(): void {
    if (!this.dataFile) return;
    let text: string;
    try {
      text = readFileSync(this.dataFile, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    const state = JSON.parse(text) as StateFile;
    if (state.version !== 1 || !Array.isArray(state.users)) {
      throw new Error(`grafana-contract: unrecognised data file ${this.dataFile}`);
    }
    for (const u of state.users) this.users.set(u.id, u);
    const maxId = Math.max(0, ...state.users.map((u) => u.id));
    this.nextId = Math.max(state.nextId ?? 1, maxId + 1);
  }

  save(): void {
    if (!this.dataFile) return;
    const state: StateFile = { version: 1, nextId: this.nextId, users: [...this.users.values()] };
    mkdirSync(dirname(this.dataFile), { recursive: true });
    const tmp = `${this.dataFile}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });
    renameSync(tmp, this.dataFile);
  }

  all(): StoredUser[] {
    return [...this.users.values()].sort((a, b) => a.id - b.id);
  }

  byId(id: number): StoredUser | undefined {
    return this.users.get(id);
  }

  /** Login first, then email; both case-insensitive (as Grafana's login-or-email lookup). */
  byLoginOrEmail(value: string): StoredUser | undefined {
    if (value === '') return undefined;
    const all = this.all();
    return all.find((u) => sameText(u.login, value)) ?? all.find((u) => sameText(u.email, value));
  }

  conflicts(login: string, email: string, exceptId?: number): boolean {
    for (const u of this.users.values()) {
      if (u.id === exceptId) continue;
      if (sameText(u.login, login) || sameText(u.email, email)) return true;
    }
    return false;
  }

  insert(user: Omit<StoredUser, 'id'>, id?: number): StoredUser {
    const stored: StoredUser = { ...user, id: id ?? this.nextId };
    this.nextId = Math.max(this.nextId, stored.id + 1);
    this.users.set(stored.id, stored);
    this.save();
    return stored;
  }

  update(user: StoredUser): void {
    this.users.set(user.id, user);
    this.save();
  }

  remove(id: number): boolean {
    const ok = this.users.delete(id);
    if (ok) this.save();
    return ok;
  }
}

// ---------------------------------------------------------------- DTOs

function userProfile(u: StoredUser): Record<string, unknown> {
  return {
    id: u.id,
    uid: u.uid,
    email: u.email,
    name: u.name,
    login: u.login,
    theme: '',
    orgId: u.orgId,
    isGrafanaAdmin: u.isGrafanaAdmin,
    isDisabled: false,
    isExternal: false,
    isExternallySynced: false,
    isGrafanaAdminExternallySynced: false,
    // Grafana leaves this nil (JSON null) for users that did not come from an auth provider.
    authLabels: null,
    updatedAt: u.updatedAt,
    createdAt: u.createdAt,
    avatarUrl: avatarUrl(u.email),
    isProvisioned: false,
  };
}

function orgUser(u: StoredUser): Record<string, unknown> {
  return {
    orgId: u.orgId,
    userId: u.id,
    uid: u.uid,
    email: u.email,
    name: u.name,
    avatarUrl: avatarUrl(u.email),
    login: u.login,
    role: u.role,
    lastSeenAt: u.updatedAt,
    lastSeenAtAge: '',
    authLabels: null,
    isDisabled: false,
    isExternallySynced: false,
    isProvisioned: false,
  };
}

// ---------------------------------------------------------------- server

export function createGrafanaContractServer(options: GrafanaContractServerOptions): GrafanaContractServer {
  if (!options.adminUser) throw new Error('grafana-contract: adminUser is required');
  if (!options.adminPassword) throw new Error('grafana-contract: adminPassword is required');

  const store = new UserStore(options.dataFile);
  store.load();

  // The admin is user 1, Grafana server admin and Admin of org 1. Unlike Grafana (which only
  // applies the configured admin password when its database is first created), the
  // configured credentials win at every start, so a stack restarted with a new password works.
  const admin = store.byId(1);
  const adminHash = hashPasswordSync(options.adminPassword);
  if (admin) {
    store.update({
      ...admin,
      login: options.adminUser,
      passwordHash: adminHash,
      isGrafanaAdmin: true,
      role: 'Admin',
      orgId: DEFAULT_ORG_ID,
    });
  } else {
    const ts = now();
    store.insert(
      {
        uid: newUid(),
        login: options.adminUser,
        email: 'admin@localhost',
        name: '',
        passwordHash: adminHash,
        orgId: DEFAULT_ORG_ID,
        role: 'Admin',
        isGrafanaAdmin: true,
        createdAt: ts,
        updatedAt: ts,
      },
      1,
    );
  }

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

  async function createUser(req: IncomingMessage): Promise<[number, unknown]> {
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

  async function deleteUser(req: IncomingMessage, rawId: string): Promise<[number, unknown]> {
    await requireServerAdmin(req);
    const id = parseId(rawId, 'id');
    if (!store.remove(id)) throw new HttpError(404, 'user not found');
    return [200, { message: 'User deleted' }];
  }

  async function setPassword(req: IncomingMessage, rawId: string): Promise<[number, unknown]> {
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

  async function lookup(req: IncomingMessage, url: URL): Promise<[number, unknown]> {
    await requireServerAdmin(req);
    const user = store.byLoginOrEmail(url.searchParams.get('loginOrEmail') ?? '');
    if (!user) throw new HttpError(404, 'user not found');
    return [200, userProfile(user)];
  }

  async function listOrgUsers(req: IncomingMessage, rawOrgId: string, url: URL): Promise<[number, unknown]> {
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

  async function updateOrgUser(
    req: IncomingMessage,
    rawOrgId: string,
    rawUserId: string,
  ): Promise<[number, unknown]> {
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

  async function route(req: IncomingMessage, url: URL): Promise<[number, unknown]> {
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
    if (method === 'GET' && path === '/api/users/lookup') return lookup(req, url);
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
  }

  const server: Server = createServer((req, res) => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://contract.invalid');
    } catch {
      sendJson(res, 400, { message: 'bad request data' });
      return;
    }
    route(req, url).then(
      ([status, body]) => sendJson(res, status, body),
      (err: unknown) => {
        if (err instanceof HttpError) {
          sendJson(res, err.status, { message: err.message });
        } else {
          console.error('grafana-contract: internal error', err);
          sendJson(res, 500, { message: 'Internal server error' });
        }
      },
    );
  });
  server.keepAliveTimeout = 5_000;

  return {
    listen(port: number, host = '127.0.0.1'): Promise<string> {
      return new Promise((resolve, reject) => {
        const onError = (err: Error): void => reject(err);
        server.once('error', onError);
        server.listen(port, host, () => {
          server.off('error', onError);
          const addr = server.address() as AddressInfo;
          const h = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
          resolve(`http://${h}:${addr.port}`);
        });
      });
    },
    close(): Promise<void> {
      return new Promise((resolve, reject) => {
        if (!server.listening) {
          resolve();
          return;
        }
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 2_000).unref();
      });
    },
  };
}
