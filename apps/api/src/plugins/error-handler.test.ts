import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { DifferentRunPendingError, EnqueueBusyError } from '@kup/core';
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

  it('answers a pending run asked differently (fleet run, cohort) with 409 DIFFERENT_RUN_PENDING and the pending job', async () => {
    const app = Fastify();
    registerErrorHandler(app);
    app.post('/reset', async () => {
      throw new DifferentRunPendingError('reset-cohort-abc', 'reset run', ['username: "cohort-abc" pending, none asked', 'cohort: none pending, "abc" asked']);
    });
    const res = await app.inject({ method: 'POST', url: '/reset' });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toEqual({
      message:
        'a different reset run is still pending under the id "reset-cohort-abc" (username: "cohort-abc" pending, none asked; cohort: none pending, "abc" asked): nothing was enqueued; try again when it has ended',
      code: 'DIFFERENT_RUN_PENDING',
      jobId: 'reset-cohort-abc',
    });
    await app.close();
  });
});
