// A contract server for the part of Grafana's HTTP API that the provisioner uses.
//
// Test tooling only: it follows the documented behaviour of Grafana's admin/user/org-user
// API (docs/…/grafana-admin-api.md facts: status codes, bodies, uniqueness rules) so the
// local stack and the test suite have something real to talk to where Grafana itself
// (AGPL, no package reachable here) cannot run. No Grafana code is copied.
//
// This file wires the pieces: store.ts (users, data file), passwords.ts (hashing),
// routes.ts (the API), http.ts (request/response plumbing), users.ts (response shapes).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpError, sendJson } from './http.js';
import { hashPasswordSync } from './passwords.js';
import { createRoutes } from './routes.js';
import { UserStore } from './store.js';
import { DEFAULT_ORG_ID, newUid, now } from './users.js';

export { CONTRACT_VERSION } from './routes.js';
export type { OrgRole, StoredUser } from './store.js';

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

/**
 * The admin is user 1, Grafana server admin and Admin of org 1. Unlike Grafana (which only
 * applies the configured admin password when its database is first created), the
 * configured credentials win at every start, so a stack restarted with a new password works.
 */
function seedAdmin(store: UserStore, adminUser: string, adminPassword: string): void {
  const admin = store.byId(1);
  const passwordHash = hashPasswordSync(adminPassword);
  if (admin) {
    store.update({ ...admin, login: adminUser, passwordHash, isGrafanaAdmin: true, role: 'Admin', orgId: DEFAULT_ORG_ID });
    return;
  }
  const ts = now();
  store.insert(
    {
      uid: newUid(),
      login: adminUser,
      email: 'admin@localhost',
      name: '',
      passwordHash,
      orgId: DEFAULT_ORG_ID,
      role: 'Admin',
      isGrafanaAdmin: true,
      createdAt: ts,
      updatedAt: ts,
    },
    1,
  );
}

export function createGrafanaContractServer(options: GrafanaContractServerOptions): GrafanaContractServer {
  if (!options.adminUser) throw new Error('grafana-contract: adminUser is required');
  if (!options.adminPassword) throw new Error('grafana-contract: adminPassword is required');

  const store = new UserStore(options.dataFile);
  store.load();
  seedAdmin(store, options.adminUser, options.adminPassword);
  const route = createRoutes(store);

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
        // Connections still busy after 2 s are cut so that a stuck client cannot hold close().
        setTimeout(() => server.closeAllConnections(), 2_000).unref();
      });
    },
  };
}
