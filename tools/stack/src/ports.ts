import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { stackPath } from './paths.js';

export const portNames = [
  'redis',
  'etcd',
  'etcdPeer',
  'apiserver',
  'controllerManager',
  'keycloak',
  'keycloakHttp',
  'keycloakManagement',
  'grafana',
] as const;
export type PortName = (typeof portNames)[number];
export type Ports = Record<PortName, number>;

/** Well-known ports a machine may already use; never handed out. */
const forbidden = new Set([
  80, 443, 2379, 2380, 3000, 5432, 6379, 6443, 8080, 8443, 9000, 9090, 9443, 10250, 10257, 10259,
]);
// Outside Linux's ephemeral range (32768-60999) so outgoing connections never take them.
const low = 20000;
const high = 32000;

export function canListen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const server = createServer();
    server.once('error', () => resolvePromise(false));
    server.listen({ port, host, exclusive: true }, () => {
      server.close(() => resolvePromise(true));
    });
  });
}

async function freePort(taken: Set<number>): Promise<number> {
  for (let attempt = 0; attempt < 500; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low));
    if (forbidden.has(port) || taken.has(port)) continue;
    if (await canListen(port)) return port;
  }
  throw new Error('no free port found on 127.0.0.1');
}

function portsFile(): string {
  return stackPath('ports.json');
}

export function readPorts(): Ports | undefined {
  if (!existsSync(portsFile())) return undefined;
  return JSON.parse(readFileSync(portsFile(), 'utf8')) as Ports;
}

/** Ports allocated at the first `up` and kept in .stack/ports.json; missing ones are added. */
export async function ensurePorts(): Promise<Ports> {
  const existing: Partial<Ports> = readPorts() ?? {};
  const taken = new Set(Object.values(existing));
  let changed = false;
  for (const name of portNames) {
    if (typeof existing[name] === 'number') continue;
    const port = await freePort(taken);
    taken.add(port);
    existing[name] = port;
    changed = true;
  }
  if (changed) writeFileSync(portsFile(), JSON.stringify(existing, null, 2) + '\n');
  return existing as Ports;
}
