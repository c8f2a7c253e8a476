// The HTTP client the Grafana contract (contract.ts) speaks to a target with.
import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';

export interface GrafanaTarget {
  url: string;
  adminUser: string;
  adminPassword: string;
  /** Called once after the suite, e.g. to stop an in-process server or a container. */
  dispose?: () => Promise<void>;
}

export interface Reply {
  status: number;
  contentType: string;
  body: any; // parsed JSON under test
}

export interface TestUser {
  id: number;
  uid: string;
  login: string;
  email: string;
  name: string;
  password: string;
}

export type Credentials = readonly [user: string, password: string];

export function suffix(): string {
  return `${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;
}

function basic([user, password]: Credentials): string {
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
}


/** Requests to the target `current()` names (read at each call: the suite sets it in beforeAll). */
export function contractClient(current: () => GrafanaTarget) {
  const admin = (): Credentials => [current().adminUser, current().adminPassword];

  async function call(
    method: string,
    path: string,
    opts: { auth?: Credentials | undefined; body?: unknown; rawBody?: string } = {},
  ): Promise<Reply> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (opts.auth) headers.authorization = basic(opts.auth);
    let payload: string | undefined;
    if (opts.rawBody !== undefined) payload = opts.rawBody;
    else if (opts.body !== undefined) payload = JSON.stringify(opts.body);
    if (payload !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(new URL(path, current().url), {
      method,
      headers,
      ...(payload !== undefined ? { body: payload } : {}),
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      // leave as text; the assertions will show it
    }
    return { status: res.status, contentType: res.headers.get('content-type') ?? '', body };
  }

  const asAdmin = (method: string, path: string, body?: unknown): Promise<Reply> =>
    call(method, path, { auth: admin(), body });

  async function createUser(overrides: Partial<Omit<TestUser, 'id' | 'uid'>> = {}): Promise<TestUser> {
    const s = suffix();
    const user = {
      login: `trainee-${s}`,
      email: `trainee-${s}@example.test`,
      name: `Trainee ${s}`,
      password: `pw-${randomBytes(9).toString('base64url')}`,
      ...overrides,
    };
    const res = await asAdmin('POST', '/api/admin/users', user);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ id: expect.any(Number), message: 'User created' });
    return { ...user, id: res.body.id as number, uid: res.body.uid as string };
  }

  async function lookup(loginOrEmail: string): Promise<Reply> {
    return asAdmin('GET', `/api/users/lookup?loginOrEmail=${encodeURIComponent(loginOrEmail)}`);
  }

  return { admin, call, asAdmin, createUser, lookup };
}
