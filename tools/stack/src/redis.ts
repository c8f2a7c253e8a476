import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { stackPath } from './paths.js';
import type { Server } from './server.js';

export function redisPing(port: number): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const socket = connect({ port, host: '127.0.0.1' });
    let data = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolvePromise(ok);
    };
    socket.setTimeout(2_000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      data += chunk.toString();
      if (data.includes('\r\n')) done(data.startsWith('+PONG'));
    });
  });
}

export function redisServerBinary(): string {
  try {
    return execFileSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
}

export const redis: Server = {
  name: 'redis',
  marker: 'redis-server',
  readyTimeoutMs: 30_000,
  ports: (ctx) => [ctx.ports.redis],
  async prepare(ctx) {
    const dir = stackPath('redis');
    mkdirSync(dir, { recursive: true });
    const conf = [
      'bind 127.0.0.1',
      `port ${ctx.ports.redis}`,
      'protected-mode yes',
      'daemonize no',
      'supervised no',
      'logfile ""',
      `dir ${dir}`,
      'appendonly yes',
      'appendfsync everysec',
      'maxmemory-policy noeviction',
      // AOF only: no RDB snapshots (a failing snapshot would also block shutdown).
      'save ""',
    ];
    writeFileSync(stackPath('redis', 'redis.conf'), conf.join('\n') + '\n');
    return { name: 'redis', command: redisServerBinary() || 'redis-server', args: [stackPath('redis', 'redis.conf')] };
  },
  ready: (ctx) => redisPing(ctx.ports.redis),
  where: (ctx) => `redis://127.0.0.1:${ctx.ports.redis}`,
};
