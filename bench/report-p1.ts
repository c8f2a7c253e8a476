// docs/benchmarks.md, "Where the time goes", P1: the API's CPU per request against the one-add
// route's, measured in the run, and where it goes, from profiles taken beside the bench.
import { ceilingRps, type EnqueueFigures } from './p1-enqueue.js';
import { round } from './lib.js';

/** Every round's rates and ratios, as the bench prints them and this page gives them; undefined without rounds. */
export function p1RoundsLine(p1: EnqueueFigures): string | undefined {
  if (!p1.rounds?.length) return undefined;
  const ratio = (a: number, b: number) => `${round(a / b, 2)}×`;
  const rounds = p1.rounds.map(
    (run) =>
      `${run.api.rps} / ${run.enqueueOnly.rps} (${ratio(run.api.rps, run.enqueueOnly.rps)}), naive ${run.naive.rps} (${ratio(run.api.rps, run.naive.rps)})` +
      (run.floor ? `, floor ${run.floor.rps} (${ratio(run.floor.rps, run.enqueueOnly.rps)} of the one-add route)` : ''),
  );
  return `Each round, API / one-add route req/s: ${rounds.join('; ')}`;
}

/** CPU per request of each P1 server in this run, and the bounds they set on the ratio. */
function p1CpuLines(p1: EnqueueFigures | undefined): string[] {
  const queue = p1?.enqueueOnly;
  if (!p1?.api.cpu || !p1.bare.cpu || !queue?.cpu) return [];
  const { api, bare, one } = { api: p1.api.cpu, bare: p1.bare.cpu, one: queue.cpu };
  const rounds = p1RoundsLine(p1);
  const lines = [
    ...(rounds ? [`  ${rounds}.`] : []),
    `  CPU per request, measured (the median of the rounds): API ${api.serverUs} µs + Redis ${api.redisUs} µs + load generator ${api.loadUs} µs; one-add route`,
    `  ${one.serverUs} µs + Redis ${one.redisUs} µs + load ${one.loadUs} µs; bare route ${bare.serverUs} µs + load ${bare.loadUs} µs${p1.naive?.cpu ? `; naive route ${p1.naive.cpu.serverUs} µs + Redis ${p1.naive.cpu.redisUs} µs` : ''}.`,
    `  Each server is one Node thread, so with Redis and the load generator on cores of their own the ratio is`,
    `  bounded by one-add / API CPU per request: ${one.serverUs} / ${api.serverUs} = ${round(one.serverUs / api.serverUs, 2)}×. Over the add itself`,
    `  (${round(one.serverUs - bare.serverUs)} µs above the bare route), the token check, validation, username, read-back and access log cost`,
    `  ${round(api.serverUs - one.serverUs)} µs; 0.9× leaves them ${round(one.serverUs / 0.9 - one.serverUs)} µs, and 1.0× needs them paid for by a cheaper add.`,
  ];
  const floor = p1.floor?.cpu;
  if (floor) {
    const budget = round(one.serverUs / 0.9 - floor.serverUs);
    const bareAdd = round(one.serverUs - bare.serverUs);
    lines.push(
      `  The API with its queue taken away (P1f) costs ${floor.serverUs} µs of CPU per request, ${round(floor.serverUs / one.serverUs, 2)}× the one-add route's`,
      `  whole request (the bound with an add that cost nothing: ${one.serverUs} / ${floor.serverUs} = ${round(one.serverUs / floor.serverUs, 2)}×). ${
        budget <= 0
          ? 'Even such an add would leave the API under 0.9×.'
          : `0.9× leaves the add and its read-back ${budget} µs, ${round(budget / bareAdd, 2)}× what BullMQ's add alone costs the one-add route (${bareAdd} µs).`
      }`,
      `  The add and its read-back, with what the requests waiting on them cost the collector, cost the API ${round(api.serverUs - floor.serverUs)} µs.`,
    );
  }
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
    '  alternating pairs on 2026-11-28, the API as the day began → with the changes below: Redis client (ioredis:',
    '  commands, auto-pipelines, socket writes) 104 → 34; garbage collection 103 → 76; streams, buffers, sockets and',
    '  other native calls 81 → 62; Fastify (routing, hooks, body parse, reply, its socket write) 67 → 54; BullMQ job',
    '  and its Lua call 53 → 30; event loop, promises, timers 50 → 39; our route, guard and enqueue code 35 → 50 (the',
    '  Redis socket\'s one write per turn now counts here: our code uncorks it); token check 35 → 11; username,',
    '  address and reserved names 27 → 8; access log 25 → 12; HTTP parse 24 → 17; zod validation 20 → 13; metrics',
    '  8 → 7; in all 628 → 410 µs. Measured from `/proc` without the profiler, the same pairs: 702 and 750 → 387',
    '  and 503 µs per request. The changes, each measured in alternating runs (µs per request; the machine\'s speed',
    '  changed by half over the morning, so compare within a step only): the API\'s Redis connection no longer',
    '  auto-pipelines (each flush built an ioredis Pipeline, which copies the 64 scripts BullMQ defines on the',
    '  connection onto itself, about 90 µs each) and the creates of one turn of the event loop wait for its end',
    '  (setImmediate), write their adds and then, on process.nextTick, their read-backs into the corked socket, which',
    '  is uncorked after them: one write per turn (turn batching with auto-pipelining 940, 918, 895 → 669, 818, 795;',
    '  then no auto-pipelining, corked, 480, 476, 472 → 379, 362, 305; uncorked, 363, 442, 386 against 336, 358, 370',
    '  corked); the read-back goes in the add\'s own round trip (BullMQ sends the add without waiting on I/O, so',
    '  the read sent after the turn\'s promise jobs follows it; a read that finds no job is made again after the',
    '  add, so the order never decides whose job it is: test/e2e/enqueue-read-back.test.ts; 718, 805, 688 → 668,',
    '  719, 528); and, together, 1047, 1279, 1035 → 918, 854, 948: tokens are compared with `timingSafeEqual` as',
    '  they are, not through a SHA-256 each (a one-shot hash cost 30 µs under load against 3 in a loop); a request\'s',
    '  child logger is made only if something logs through it (the access line is the root logger\'s, with the',
    '  request id as a field: the same line); the Redis guard\'s deadlines share one timer; a plain address skips',
    '  the slug steps that cannot change it; the reserved names are one expression; the auth hook reads Fastify\'s',
    '  `routeOptions` (a new object per read) once. Parts left untouched cost less too: with one round trip per',
    '  create and a write per turn, fewer requests wait on Redis at each collection.',
    '  What is left against the one-add route: garbage collection is three times its share (while 50 requests are',
    '  in flight, the 2 MiB semi-spaces of P4b fill every few milliseconds and copy the objects of every request',
    '  still waiting on Redis); what the route lacks by design costs about 50 of the 410 µs (zod, the access log,',
    '  the token check, the username, metrics), and our route, guard and enqueue code 50 with the socket\'s write.',
    '  Earlier changes (2026-11-27): pino ran its wildcard redact paths on every value of every line (16 KB of',
    '  garbage per access line; now one scan that allocates nothing when a line holds no secret key); the read-back',
    '  is two fields (HMGET), not BullMQ\'s getJob; no span hooks with tracing off; hooks that never wait take',
    '  `done`; the access lines of one turn leave in one write; the email\'s domain check is remembered per domain.',
    '  Tried and left out: semi-spaces of 8 MiB, 587 against 695 µs, the mean of four alternations (before the',
    '  read-back moved), but an RSS peak of 151–158 MB, over P4b\'s 150; 4 MiB gained nothing beyond the noise;',
    '  V8\'s `--optimize-for-size` peaked 10 MB lower for half as much CPU again; `MALLOC_ARENA_MAX=2` changed nothing;',
    '  8 MiB semi-spaces with `--heap-growing-percent=10` (the old generation grown by a tenth over what is live):',
    '  211, 200, 205 against 406, 443, 233 µs in one set of alternations, then 246, 222, 293 against 255, 259, 257 in',
    '  the next, the machine\'s drift rather than the flag, and peaks up to 159 MB; `--single-threaded-gc` peaked',
    '  70 MB higher and cost more. Why the collector costs five times the one-add route\'s (V8\'s `--trace-gc` and a',
    '  sampling heap profile, 2026-11-28): the API allocates 38 KB per request against 18 (ioredis 5.9 against 4.2,',
    '  the read-back\'s command; our route, submitter and enqueue code 6.3; Fastify 4.0 against 1.7, with the',
    '  response schema and hooks; zod 1.6; the access line 1.1), so it collects twice as often per request, and each',
    '  scavenge takes twice as long (2.1 against 1.0 ms: more of every waiting request survives it).',
    '  The floor (P1f) profiled the same way beside the one-add route, one run each on 2026-11-28, µs per request',
    '  as profiled, floor against one-add route: Fastify 73 against 32 (validation and reply serialisation through',
    '  the zod type provider, our hooks, the request id and its header, the child logger factory); streams,',
    '  buffers, sockets 36 against 41; event loop and promises 30 against 24; HTTP parse 17 against 11; garbage',
    '  collection 17 against 15; the access log 17; zod in the handler 16; metrics 11; our route 10; the token',
    '  check 10; the username 9; Redis client and BullMQ none against 67 and 25. In all 245 against 216, a run of',
    '  each (the rounds above, alternating and without the profiler, compare them better). With the add, the',
    '  collector\'s share grows from 17 to 76 µs (the API\'s profile above): the floor\'s requests end in the turn',
    '  they start, the API\'s wait on Redis with everything they hold, and every scavenge copies them.',
    '  And, as an experiment only (2026-11-28, not kept): the API\'s creates of one turn of the event loop sent as one',
    '  hand-written Lua call that writes each job\'s hash, wait-list entry and event itself, in place of BullMQ\'s add',
    '  and our read-back (none of BullMQ\'s options, retries or checks, so only a bound): two alternations, CPU per',
    '  request, the API 340 and 350 µs, the experiment 228 and 213, the one-add route 184 and 169, the floor 278 and',
    '  238 (it keeps our enqueue code, minus Redis; the experiment drops that too); req/s 2691 and 2591, 3414 and',
    '  3415, 4739 and 5193. A third less CPU than the API, but 0.66× and 0.72× the one-add route\'s rate, p99 1.3× and',
    '  1.5×: even an enqueue that gives up BullMQ\'s add leaves P1 under 0.9× on these two shared cores, where the',
    '  load generator and Redis pay for every request too.',
    '  And, as an experiment only, no read-back at all (it is what keeps another trainee\'s job from being answered',
    '  as ours): before it went with the add, 598, 356 and 591 against 714, 735 and 662 µs, the largest single',
    '  piece of the API\'s own cost then, mostly by the second round trip every request waited for.',
  ];
}
