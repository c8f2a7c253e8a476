import { describe, expect, it, vi } from 'vitest';
import { UpstreamError } from '@kup/core';
import { withCallRetries } from './retrying.js';

class Port {
  calls = 0;
  constructor(private readonly failures: Array<unknown>) {}
  async read(_name: string, _signal?: AbortSignal): Promise<string> {
    this.calls++;
    const failure = this.failures.shift();
    if (failure) throw failure;
    return 'ok';
  }
  async create(_name: string): Promise<string> {
    return this.read(_name);
  }
}

const policy = { tries: 3, baseDelayMs: 1 };
const transient = () => new UpstreamError('grafana', 'lookup user', 503);

describe('withCallRetries', () => {
  it('retries an idempotent call through transient failures', async () => {
    const port = new Port([transient(), transient()]);
    await expect(withCallRetries(port, ['read'], policy).read('x')).resolves.toBe('ok');
    expect(port.calls).toBe(3);
  });

  it('gives up after `tries` with the last error', async () => {
    const port = new Port([transient(), transient(), new UpstreamError('grafana', 'lookup user', 502)]);
    await expect(withCallRetries(port, ['read'], policy).read('x')).rejects.toThrow('answered 502');
    expect(port.calls).toBe(3);
  });

  it('does not retry a permanent failure', async () => {
    const port = new Port([new UpstreamError('grafana', 'lookup user', 403)]);
    await expect(withCallRetries(port, ['read'], policy).read('x')).rejects.toThrow('answered 403');
    expect(port.calls).toBe(1);
  });

  it('runs methods not named idempotent once', async () => {
    const port = new Port([transient()]);
    await expect(withCallRetries(port, ['read'], policy).create('x')).rejects.toThrow('answered 503');
    expect(port.calls).toBe(1);
  });

  it('stops waiting when the signal aborts', async () => {
    const port = new Port([transient(), transient()]);
    const abort = new AbortController();
    const wrapped = withCallRetries(port, ['read'], { tries: 3, baseDelayMs: 60_000 });
    const call = wrapped.read('x', abort.signal);
    await vi.waitFor(() => expect(port.calls).toBe(1));
    abort.abort(new Error('stopped'));
    await expect(call).rejects.toThrow('stopped');
    expect(port.calls).toBe(1);
  });
});
