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
});
