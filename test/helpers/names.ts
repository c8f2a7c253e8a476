// Unique names per test, so tests never collide with each other or with earlier runs.
import { randomBytes } from 'node:crypto';

export const randomSuffix = (bytes = 4): string => randomBytes(bytes).toString('hex');

/** A DNS-1123 username such as `t-worker-3f9a1c2b`. */
export const uniqueUsername = (prefix = 't'): string => `${prefix}-${randomSuffix()}`;

/** An email whose derived username is `username` (no dots in it). */
export const emailOf = (username: string, domain = 'example.invalid'): string => `${username}@${domain}`;

/** A BullMQ prefix of the test's own, e.g. `t-3f9a1c2b`: queues, locks and secrets apart. */
export const uniquePrefix = (prefix = 't'): string => `${prefix}-${randomSuffix()}`;
