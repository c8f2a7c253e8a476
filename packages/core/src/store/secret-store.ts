import type { Redis } from 'ioredis';
import type { Sealer } from '../crypto/sealer.js';

/**
 * Generated passwords, sealed (AES-256-GCM) in Redis under a key of their own with a
 * TTL, so they are never part of job data or results (which Bull Board shows) and vanish
 * by themselves after `ttlSeconds`. The key holds the job id and the job's creation
 * time: a job re-added later under the same id never sees an older job's password.
 */
export class SecretStore {
  constructor(
    private readonly redis: Redis,
    private readonly sealer: Sealer,
    private readonly prefix: string,
    private readonly ttlSeconds: number,
  ) {}

  private key(jobKey: string): string {
    return `${this.prefix}:secret:${jobKey}`;
  }

  /**
   * Stores `candidate` unless a secret is already there, and returns the one stored:
   * a retried job gets back the password its first attempt generated.
   */
  async putIfAbsent(jobKey: string, candidate: string): Promise<string> {
    const sealed = this.sealer.seal(candidate, jobKey);
    const stored = await this.redis.set(this.key(jobKey), sealed, 'EX', this.ttlSeconds, 'NX', 'GET');
    return stored === null ? candidate : this.sealer.open(stored, jobKey);
  }

  /** Replaces the secret (a repair that set a new password). */
  async put(jobKey: string, secret: string): Promise<void> {
    await this.redis.set(this.key(jobKey), this.sealer.seal(secret, jobKey), 'EX', this.ttlSeconds);
  }

  async get(jobKey: string): Promise<string | undefined> {
    const sealed = await this.redis.get(this.key(jobKey));
    return sealed === null ? undefined : this.sealer.open(sealed, jobKey);
  }

  /** Whether a secret is still stored (not purged by its TTL), without opening it. */
  async exists(jobKey: string): Promise<boolean> {
    return (await this.redis.exists(this.key(jobKey))) === 1;
  }

  /** Restarts the TTL, from a job's end rather than its start. */
  async touch(jobKey: string): Promise<void> {
    await this.redis.expire(this.key(jobKey), this.ttlSeconds);
  }

  async remove(jobKey: string): Promise<void> {
    await this.redis.del(this.key(jobKey));
  }
}

/** The SecretStore key of a job: its id and creation time (stable across retries). */
export function secretKeyOf(job: { id?: string | undefined; timestamp: number }): string {
  if (!job.id) throw new Error('job has no id');
  return `${job.id}-${job.timestamp}`;
}
