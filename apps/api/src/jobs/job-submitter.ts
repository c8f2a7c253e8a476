import type { Job, JobsOptions, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { RedisMutex, enqueueLockKey, enqueueUnique, secretKeyOf, type ExistingJobPolicy, type HeldJob, type QueueName } from '@kup/core';
import type { RedisGuard } from './redis-guard.js';

export type { ExistingJobPolicy } from '@kup/core';

export interface JobSubmitterDeps {
  queues: Readonly<Record<QueueName, Pick<Queue, 'add' | 'getJob' | 'toKey'>>>;
  /** The queues' own connection (the read-back must see their writes). */
  redis: Pick<Redis, 'set' | 'eval' | 'hmget'> & { readonly stream?: Corkable };
  guard: RedisGuard;
  secrets: { remove(jobKey: string): Promise<void> };
  jobOptions: JobsOptions;
  /** Key prefix for the short enqueue locks (the queue prefix). */
  prefix: string;
  lockTtlMs?: number;
  lockWaitMs?: number;
}

export interface Submission {
  job: Job;
  /** False when an unfinished job with the same id was found and is answered instead. */
  created: boolean;
}

/**
 * The API's create and delete: `enqueueUnique` behind the Redis guard, dropping the
 * sealed password of a finished job it replaces (EnqueueBusyError, when another request
 * keeps the replace lock too long, is answered 503 `BUSY` by the error handler).
 */
export class JobSubmitter {
  private readonly mutex: RedisMutex;
  private readonly turn: TurnGate;

  constructor(private readonly deps: JobSubmitterDeps) {
    this.mutex = new RedisMutex(deps.redis);
    this.turn = new TurnGate(() => deps.redis.stream);
  }

  submit(queue: QueueName, name: string, jobId: string, data: object, policy?: ExistingJobPolicy): Promise<Submission> {
    const { queues, jobOptions, prefix, secrets, lockTtlMs, lockWaitMs } = this.deps;
    const lock = { mutex: this.mutex, key: enqueueLockKey(prefix, queue, jobId), ttlMs: lockTtlMs, waitMs: lockWaitMs };
    const readHolder = (id: string) => this.readHolder(queues[queue].toKey(id));
    return this.deps.guard.run(async () => {
      await this.turn.passed();
      return enqueueUnique(
        { queue: queues[queue], queueName: queue, name, jobId, data, jobOptions, policy, readHolder, onRemoved: (removed) => secrets.remove(secretKeyOf(removed)) },
        lock,
      );
    });
  }

  /**
   * Two fields of the job hash instead of BullMQ's getJob (the whole hash, decoded into a
   * Job): after nearly every add the job read back is the one just made (docs/benchmarks.md, P1).
   */
  private async readHolder(key: string): Promise<HeldJob | undefined> {
    const [timestamp, data] = await this.deps.redis.hmget(key, 'timestamp', 'data');
    if (timestamp == null) return undefined;
    return { timestamp: Number(timestamp), data: data == null ? undefined : (JSON.parse(data) as unknown) };
  }
}

/** What the gate holds back while a turn's creates write their commands: the connection's socket. */
export interface Corkable {
  cork(): void;
  uncork(): void;
}

/**
 * Resolves for everyone who waits in one turn of the event loop at once, at its end
 * (setImmediate), with the Redis connection's socket corked until their commands are written:
 * the adds, made in the promise jobs that follow, and the read-backs, made on process.nextTick
 * after them (enqueue-unique.ts), leave in one write instead of a write each (ioredis writes
 * every command as it is sent when not auto-pipelining, deps.ts). Uncorked two ticks later, so
 * after those reads; anything else written meanwhile leaves with them. Kept because it measured
 * cheaper, in alternating runs under the P1 load (docs/benchmarks.md).
 */
export class TurnGate {
  private waiting: Promise<void> | undefined;

  constructor(private readonly stream?: () => Corkable | undefined) {}

  passed(): Promise<void> {
    this.waiting ??= new Promise((resolve) => {
      setImmediate(() => {
        this.waiting = undefined;
        const stream = this.stream?.();
        stream?.cork();
        resolve();
        if (stream) queueMicrotask(() => process.nextTick(() => process.nextTick(() => stream.uncork())));
      });
    });
    return this.waiting;
  }
}
