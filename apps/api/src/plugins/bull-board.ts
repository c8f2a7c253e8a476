import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ErrorBody } from '../http/schemas.js';
import { authRoleOf } from './auth.js';

export const BULL_BOARD_PATH = '/admin/queues';

export const READ_ONLY: ErrorBody = {
  message: 'Bull Board is read-only with an API token: changes need a Bull Board admin token (BULL_BOARD_ADMIN_TOKENS)',
  code: 'BULL_BOARD_READ_ONLY',
};
const UNAVAILABLE: ErrorBody = { message: 'Queue unavailable', code: 'QUEUE_UNAVAILABLE' };
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface BullBoardOptions {
  /** Whether any admin token is configured; without one the board is read-only for everyone. */
  writable: boolean;
  /** Whether Redis answers now: the board's API answers 503 at once instead of hanging when not. */
  redisReady: () => boolean;
}

/**
 * Bull Board over every queue, behind the API's auth (HTTP Basic with a token as password
 * works in a browser). Job data never holds passwords and results only a `passwordIssued`
 * flag, so nothing secret is shown there.
 *
 * Writing through it (add a job, retry, clean, obliterate, pause, edit data, promote,
 * remove, scheduler edits…) would let a token holder skip the API's validation and feed
 * the worker data it trusts, so every call that is not a read needs the `admin` role (a
 * BULL_BOARD_ADMIN_TOKENS token): an API token gets 403. The board's own UI hides its
 * buttons for API tokens (its queue list says read-only), and with no admin token
 * configured every queue is read-only in Bull Board itself as well. Its pages may not be
 * framed (clickjacking an admin into pressing a button).
 */
export async function registerBullBoard(app: FastifyInstance, queues: readonly Queue[], options: BullBoardOptions): Promise<void> {
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(BULL_BOARD_PATH);
  createBullBoard({
    queues: queues.map((queue) => new BullMQAdapter(queue, { readOnlyMode: !options.writable })),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'k8s-user-provisioner' } },
  });
  const isAdmin = (request: FastifyRequest) => authRoleOf(request) === 'admin';
  const isApi = (request: FastifyRequest) => request.url.startsWith(`${BULL_BOARD_PATH}/api/`);

  await app.register(
    async (board) => {
      board.addHook('onRequest', async (request, reply) => {
        reply.header('content-security-policy', "frame-ancestors 'none'").header('x-frame-options', 'DENY');
        if (!SAFE_METHODS.has(request.method) && !isAdmin(request)) return reply.code(403).send(READ_ONLY);
        // BullMQ waits for a connection that is down; answer now rather than hang.
        if (isApi(request) && !options.redisReady()) return reply.code(503).send(UNAVAILABLE);
      });
      // The UI reads each queue's `readOnlyMode` from this answer to show or hide its buttons.
      board.addHook('onSend', async (request, reply, payload) => {
        if (isAdmin(request) || request.method !== 'GET' || reply.statusCode !== 200 || typeof payload !== 'string') return payload;
        if (!request.url.startsWith(`${BULL_BOARD_PATH}/api/queues`) || !payload.includes('"readOnlyMode"')) return payload;
        try {
          const body = JSON.parse(payload) as { queues?: Array<{ readOnlyMode?: boolean }> };
          for (const queue of body.queues ?? []) queue.readOnlyMode = true;
          return JSON.stringify(body);
        } catch {
          return payload;
        }
      });
      await board.register(serverAdapter.registerPlugin());
    },
    { prefix: BULL_BOARD_PATH },
  );
}
