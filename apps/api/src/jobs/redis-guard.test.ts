import { createServer, type AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { QueueUnavailableError } from '../http/http-error.js';
import { RedisGuard } from './redis-guard.js';

const redis = (status: string) => ({ status }) as { status: 'ready' };

describe('RedisGuard', () => {
  it('refuses at once while the connection is not ready', async () => {
    let ran = false;
    const guard = new RedisGuard(redis('reconnecting'));
    await expect(guard.run(async () => (ran = true))).rejects.toBeInstanceOf(QueueUnavailableError);
    expect(ran).toBe(false);
  });

  it('gives up on an operation that hangs', async () => {
    const guard = new RedisGuard(redis('ready'), { timeoutMs: 20 });
    await expect(guard.run(() => new Promise(() => undefined))).rejects.toBeInstanceOf(QueueUnavailableError);
  });

  it('gives each operation its own deadline, the shorter after the longer too', async () => {
    const guard = new RedisGuard(redis('ready'));
    const outcome = (promise: Promise<unknown>) => promise.then(() => 'resolved', (error: unknown) => (error instanceof QueueUnavailableError ? 'gave up' : 'other'));
    let finish: (value: string) => void = () => undefined;
    const long = outcome(guard.run(() => new Promise(() => undefined), 60_000));
    const quick = outcome(guard.run(() => new Promise<string>((resolve) => (finish = resolve)), 60_000));
    const short = outcome(guard.run(() => new Promise(() => undefined), 20));
    expect(await short).toBe('gave up');
    finish('done');
    expect(await quick).toBe('resolved');
    // The long one is still running: it has neither resolved nor been given up.
    expect(await Promise.race([long, Promise.resolve('pending')])).toBe('pending');
  });

  it('classifies an operation that throws before returning a promise', async () => {
    const guard = new RedisGuard(redis('ready'));
    const bug = new TypeError('thrown at once');
    await expect(guard.run(() => { throw bug; })).rejects.toBe(bug);
  });

  it('turns connection errors into "queue unavailable"', async () => {
    const guard = new RedisGuard(redis('ready'));
    const error = new Error("Stream isn't writeable and enableOfflineQueue options is false");
    await expect(guard.run(() => Promise.reject(error))).rejects.toBeInstanceOf(QueueUnavailableError);
  });

  it('lets other errors (bugs) and results through unchanged', async () => {
    const guard = new RedisGuard(redis('ready'));
    const bug = new TypeError('x is undefined');
    await expect(guard.run(() => Promise.reject(bug))).rejects.toBe(bug);
    await expect(guard.run(async () => 42)).resolves.toBe(42);
  });

  // The classifier matches ioredis's messages: take them from the installed ioredis itself,
  // against a port where nothing listens, so an upgrade that rewords them fails here.
  it('recognises the errors the installed ioredis raises when Redis is unreachable', async () => {
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = server.address() as AddressInfo;
        server.close(() => resolve(free));
      });
    });
    const base = { host: '127.0.0.1', port, lazyConnect: true, retryStrategy: () => 50 };
    const failures: Error[] = [];
    const offline = new Redis({ ...base, enableOfflineQueue: false });
    const retrying = new Redis({ ...base, maxRetriesPerRequest: 1 });
    const closed = new Redis({ ...base });
    for (const client of [offline, retrying, closed]) client.on('error', () => undefined);
    try {
      failures.push(await offline.ping().then(() => new Error('no error'), (e: Error) => e));
      void retrying.connect().catch(() => undefined);
      failures.push(await retrying.ping().then(() => new Error('no error'), (e: Error) => e));
      closed.disconnect();
      failures.push(await closed.ping().then(() => new Error('no error'), (e: Error) => e));
    } finally {
      for (const client of [offline, retrying, closed]) client.disconnect();
    }
    const guard = new RedisGuard(redis('ready'));
    for (const failure of failures) {
      await expect(guard.run(() => Promise.reject(failure)), failure.message).rejects.toBeInstanceOf(QueueUnavailableError);
    }
  });
});
