import { z } from 'zod';
import { bool, int, tokenList } from './schema-helpers.js';

/** The HTTP API's own settings: listening, callers' tokens, waiting, admin surfaces. */
export const apiEnvShape = {
  PORT: int(3000, 1, 65_535),
  HOST: z.string().default('0.0.0.0'),
  /** Comma-separated; several are accepted at once so tokens can be rotated. */
  API_TOKENS: tokenList(1),
  /** Longest `Prefer: wait=N` honoured, in seconds. */
  MAX_WAIT_SECONDS: int(60, 0, 300),
  BODY_LIMIT_BYTES: int(16_384, 1_024),
  /**
   * Which proxies in front of the API to believe about the client address (Fastify's
   * `trustProxy`): `false` (default), `true`, or comma-separated addresses or CIDRs. The
   * failed-authentication rate limit counts per client address, so behind an ingress set
   * this, or every client shares the ingress's address.
   */
  TRUST_PROXY: z
    .string()
    .default('false')
    .transform((raw): boolean | string[] => {
      if (raw === 'true' || raw === 'false') return raw === 'true';
      return raw.split(',').map((part) => part.trim()).filter(Boolean);
    }),
  /** Serve GET /metrics without a token (when only the cluster network reaches the API's port). */
  METRICS_PUBLIC: bool(false),
  /**
   * Treat a request without `Prefer` as `Prefer: wait=N` on POST/DELETE /provisioner, /reset,
   * /cleanup, /sync and PATCH /trainees/:username, so synchronous callers work unchanged. 0 (default): off. Capped at
   * MAX_WAIT_SECONDS; keep the ingress's read timeout above it.
   */
  DEFAULT_PREFER_WAIT_SECONDS: int(0, 0, 300),
  /**
   * Comma-separated tokens (≥ 16 characters) that may change things through Bull Board
   * (add, retry, clean, obliterate, pause, edit data, schedulers…). API tokens only read
   * it. Unset: Bull Board is read-only for everyone. Not accepted on the other routes.
   */
  BULL_BOARD_ADMIN_TOKENS: tokenList(0).default([]),
  /** Failed authentications a client (IPv4 address, IPv6 /64) may have per window; more get 429. */
  AUTH_FAILURE_LIMIT: int(20, 1),
  AUTH_FAILURE_WINDOW_SECONDS: int(60, 1),
};
