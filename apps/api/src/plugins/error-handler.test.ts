import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { EnqueueBusyError } from '@kup/core';
import { registerErrorHandler } from './error-handler.js';

describe('registerErrorHandler', () => {
  it('answers a busy enqueue lock (create, delete or fleet run) with 503 BUSY', async () => {
    const app = Fastify();
    registerErrorHandler(app);
    app.post('/reset', async () => {
      throw new EnqueueBusyError();
    });
    const res = await app.inject({ method: 'POST', url: '/reset' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({ message: 'Another request for the same job is being handled; retry', code: 'BUSY' });
    await app.close();
  });
});
