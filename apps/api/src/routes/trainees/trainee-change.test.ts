import type { FastifyReply, FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { ExistingJobPolicy } from '@kup/core';
import { submitTraineeChange, type TraineeChangeDeps } from './trainee-change.js';

/** A submitter that finds `existing` pending under the id and lets the route's policy decide. */
function depsWith(existing: { id: string; data: object }, state: string): TraineeChangeDeps {
  return {
    submitter: {
      submit: async (_queue, _name, jobId, data, policy?: ExistingJobPolicy) => {
        const verdict = await policy?.(existing as never, state as never);
        return verdict === 'answer' ? { job: existing as never, created: false } : { job: { id: jobId, data } as never, created: true };
      },
    },
    reader: { view: async () => undefined },
    waiter: { waitForEnd: async () => undefined },
    maxWaitSeconds: 10,
    shutdown: new AbortController().signal,
  };
}

function fakeReply() {
  const sent: { status?: number; body?: unknown; headers: Record<string, string> } = { headers: {} };
  const reply = {
    code(status: number) { sent.status = status; return reply; },
    header(name: string, value: string) { sent.headers[name] = value; return reply; },
    send(body: unknown) { sent.body = body; return reply; },
    raw: { once() {}, off() {} },
  };
  return { reply: reply as unknown as FastifyReply, sent };
}

const request = { headers: {} } as FastifyRequest;
const change = {
  name: 'set-expiry',
  jobId: 'set-expiry-ann',
  data: { username: 'ann', expiresAt: '2030-01-01T00:00:00.000Z' },
  sameWhen: 'expiresAt' as const,
  what: 'expiry change',
  pendingCode: 'EXPIRY_CHANGE_PENDING',
  result: z.object({ username: z.string() }),
};

describe('submitTraineeChange', () => {
  it('answers a pending different change with 409, its code and the pending job', async () => {
    const { reply, sent } = fakeReply();
    await submitTraineeChange(depsWith({ id: 'set-expiry-ann', data: { username: 'ann', expiresAt: '2031-01-01T00:00:00.000Z' } }, 'waiting'), request, reply, change);
    expect(sent.status).toBe(409);
    expect(sent.body).toEqual({ message: 'another expiry change for "ann" is still pending: try again when it has ended', code: 'EXPIRY_CHANGE_PENDING', jobId: 'set-expiry-ann' });
  });

  it('answers the same change still pending with 202 and its job', async () => {
    const { reply, sent } = fakeReply();
    await submitTraineeChange(depsWith({ id: 'set-expiry-ann', data: change.data }, 'active'), request, reply, change);
    expect(sent.status).toBe(202);
    expect(sent.body).toEqual({ jobId: 'set-expiry-ann', statusUrl: expect.stringContaining('set-expiry-ann'), username: 'ann' });
    expect(sent.headers.location).toBe((sent.body as { statusUrl: string }).statusUrl);
  });

  it('replaces a finished change with a new job', async () => {
    const { reply, sent } = fakeReply();
    await submitTraineeChange(depsWith({ id: 'set-expiry-ann', data: { username: 'ann', expiresAt: '2031-01-01T00:00:00.000Z' } }, 'completed'), request, reply, change);
    expect(sent.status).toBe(202);
  });
});
