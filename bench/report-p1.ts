// docs/benchmarks.md, "Where the time goes", P1: the API's CPU per request against the one-add
// route's, measured in the run, and where it goes, from profiles taken beside the bench.
import { ceilingRps, type EnqueueFigures } from './p1-enqueue.js';
import { round } from './lib.js';

/** CPU per request of each P1 server in this run, and the bounds they set on the ratio. */
function p1CpuLines(p1: EnqueueFigures | undefined): string[] {
  const queue = p1?.enqueueOnly;
  if (!p1?.api.cpu || !p1.bare.cpu || !queue?.cpu) return [];
  const { api, bare, one } = { api: p1.api.cpu, bare: p1.bare.cpu, one: queue.cpu };
  const lines = [
    `  CPU per request, measured: API ${api.serverUs} µs + Redis ${api.redisUs} µs + load generator ${api.loadUs} µs; one-add route`,
    `  ${one.serverUs} µs + Redis ${one.redisUs} µs + load ${one.loadUs} µs; bare route ${bare.serverUs} µs + load ${bare.loadUs} µs.`,
    `  Each server is one Node thread, so with Redis and the load generator on cores of their own the ratio is`,
    `  bounded by one-add / API CPU per request: ${one.serverUs} / ${api.serverUs} = ${round(one.serverUs / api.serverUs, 2)}×. Over the add itself`,
    `  (${round(one.serverUs - bare.serverUs)} µs above the bare route), the token check, validation, username, read-back and access log cost`,
    `  ${round(api.serverUs - one.serverUs)} µs; 0.9× leaves them ${round(one.serverUs / 0.9 - one.serverUs)} µs, and 1.0× needs them paid for by a cheaper add.`,
  ];
  if (p1.cores) lines.push(`  On ${p1.cores} shared cores the three processes' CPU caps the API at ${Math.round(ceilingRps(api, p1.cores))} req/s (one-add route: ${Math.round(ceilingRps(one, p1.cores))}).`);
  return lines;
}

export function p1Where(p1: EnqueueFigures | undefined): string[] {
  return [
    '- P1: per request the API checks the token (a constant-time comparison), validates with zod, derives the',
    '  username, writes one access log line, adds the job (one Lua script on Redis) and reads two fields of it back',
    '  (HMGET: BullMQ\'s add of a taken id changes nothing yet answers with our data, so only the read-back tells a',
    '  new job from another trainee\'s); the one-add route does only the add.',
    ...p1CpuLines(p1),
    '  Where each µs goes, from `node --cpu-prof` of the API under this load (50 connections, unique emails, the',
    '  shipped heap flags), self time by component, a native call such as a socket write counted to the package',
    '  that made it, startup left out; µs per request as profiled (the profiler adds its own), the mean of two',
    '  alternating pairs, on 2026-11-28 before → after the changes below: Redis client (ioredis: commands,',
    '  auto-pipelines, socket writes) 117 → 126; streams, buffers, sockets and other native calls 103 → 87;',
    '  garbage collection 97 → 96; Fastify (routing, hooks, body parse, reply, its socket write) 84 → 78; BullMQ',
    '  job and its Lua call 67 → 32; event loop, promises, timers 64 → 59; token check 48 → 15; our route, guard and',
    '  enqueue code 39 → 32; username, address and reserved names 33 → 12; HTTP parse 31 → 25; access log 26 → 22;',
    '  zod validation 24 → 21; metrics 12 → 11; in all 742 → 612 µs. Measured from `/proc` without the profiler,',
    '  the same pairs: 864 and 842 → 729 and 633 µs per request. The changes: the adds of the requests that arrived',
    '  in one turn of the event loop wait for its end (setImmediate) and leave together, so they share one of',
    '  ioredis\' auto-pipelines and their read-backs the next (alone, in three alternating pairs: 940, 918, 895 →',
    '  669, 818, 795 µs); tokens are compared with `timingSafeEqual` as they are, not through a SHA-256 each (a',
    '  one-shot hash cost 30 µs under load against 3 in a loop); a request\'s child logger is made only if something',
    '  logs through it (the access line is the root logger\'s, with the request id as a field: the same line); the',
    '  Redis guard\'s deadlines share one timer; a plain address skips the slug steps that cannot change it; the',
    '  reserved names are one expression; the auth hook reads Fastify\'s `routeOptions` (a new object per read) once.',
    '  What is left against the one-add route (its own profile, same hour): garbage collection is four times its',
    '  share (while 50 requests are in flight, the 2 MiB semi-spaces of P4b fill every few milliseconds and copy',
    '  the objects of every request still waiting on Redis), and what the route lacks by design costs about',
    '  110 µs: our route, guard and enqueue code, zod, the access log, the token check, the username and metrics.',
    '  Earlier changes (2026-11-27): pino ran its wildcard redact paths on every value of every line (16 KB of',
    '  garbage per access line; now one scan that allocates nothing when a line holds no secret key); the read-back',
    '  is two fields (HMGET), not BullMQ\'s getJob; no span hooks with tracing off; hooks that never wait take',
    '  `done`; the access lines of one turn leave in one write; the email\'s domain check is remembered per domain.',
    '  Tried and left out: no read-back at all (an experiment only, since the read-back is what keeps another',
    '  trainee\'s job from being answered as ours): 598, 356 and 591 against 714, 735 and 662 µs, alternating, so it',
    '  is the largest single piece of the API\'s own cost, by its command and the second round trip every request',
    '  then waits for. Semi-spaces of 8 MiB: 587 against 695 µs, the mean of four alternations, but an RSS peak of',
    '  151–158 MB, over P4b\'s 150; 4 MiB gained nothing beyond the noise. Sending the read-back in the add\'s own',
    '  round trip (queued once BullMQ has queued the add): in three alternating pairs before the turn batching,',
    '  271, 295 and 287 µs per request with it, 267, 285 and 230 without.',
  ];
}
