// docs/benchmarks.md from one bench run: figures, baselines, ratios, machine, date, how to rerun.
import { cpus, loadavg, totalmem } from 'node:os';
import { p1Where } from './report-p1.js';
import type { CreateFigures } from './p2-creates.js';
import { p5RoundRatios, type Figures, type Row } from './report-rows.js';
import { round } from './lib.js';
import { FIGURE_DEFINITIONS } from './report-figures.js';

export { rowsOf, type Figures, type Row } from './report-rows.js';

export interface ReportInput extends Figures {
  started: Date;
  argv: string[];
  rows: Row[];
}

export function renderReport({ started, argv, rows, p1, p2, p3, p4, p5, p6 }: ReportInput): string {
  const cpu = cpus();
  const lines = [
    '# Benchmarks',
    '',
    'Written by `npm run bench` (bench/run.ts); rerun it to refresh this page. Every figure is measured',
    'against a baseline taken in the same run on the same local stack, so the ratio is what matters:',
    'absolute numbers depend on the machine and on whatever else it runs.',
    '',
    `- Date: ${started.toISOString()}`,
    `- Machine: ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${round(totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}, load average at the end ${loadavg().map((l) => round(l, 1)).join(' / ')}`,
    `- Command: \`npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}\``,
    ...(argv.includes('--merge') ? ['- `--merge`: the figures this command did not measure come from earlier runs (test-artifacts/bench/last.json), maybe on another machine of the same kind: each row\'s ratio compares figures measured in one run, the rows not always the same run.'] : []),
    '',
    '| | Measure | Ours | Baseline | Ratio | Target | |',
    '|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.id} | ${r.what} | ${r.value} | ${r.baseline} | ${r.ratio} | ${r.target} | ${r.met === undefined ? '' : r.met ? 'met' : '**not met**'} |`),
    '',
    ...FIGURE_DEFINITIONS,
    '## Where the time goes',
    '',
    ...p1Where(p1),
    '- P4b: without flags, Node sizes the heap from the memory it sees: 256 MiB of old generation and 1 MiB',
    '  semi-spaces inside the api\'s 256Mi limit, 4 GiB and 32 MiB on this 24 GiB host. Under the P1 load the API\'s',
    '  live heap stays about 45 MB, but with the host\'s 32 MiB semi-spaces its RSS peaked at 250–345 MB: young',
    '  garbage, and old garbage V8 saw no reason to collect. The pinned heap (old 160, semi-spaces 2 MiB) peaked',
    '  at 136–151 MB in trials before the access log stopped making 16 KB of garbage per line, 133–151 MB since',
    '  (idle: 105 MB, half of it the node binary\'s pages and module files). Semi-spaces of 8 MiB peaked at 152 MB;',
    '  the container\'s own default of 1 MiB cost more CPU (550–670 µs) for no lower peak; an old generation',
    '  capped at 96–128 MiB, near the live heap under load, cost 3–8 times the CPU; V8\'s young-generation',
    '  mark-sweep (`--minor-ms`) cost more CPU than scavenges. What did lower it was glibc\'s malloc: by default it',
    '  raises its trim and mmap thresholds after large frees (up to 64 and 32 MiB) and keeps that much freed memory;',
    '  fixed at 128 KiB (the api\'s manifest sets both), the peak was 138.9 and 131.1 MB against 152.0 and 144.6 MB',
    '  with glibc\'s defaults, alternating runs on the shared machine, for no CPU per request beyond the noise.',
    '- P2: a trainee costs Keycloak the same user-with-password write as a bare create plus the final',
    '  `provisioned` mark; the apiserver two reads of the namespace (the check before Keycloak hears of the',
    '  trainee, and the namespace step\'s own just before its apply) and six server-side applies (namespace,',
    '  RoleBinding, quota, limit range, two network policies); Grafana two calls (the account\'s create and its',
    '  role: a job that never reached Grafana creates without looking first, since Grafana refuses a taken login',
    '  or email with 412 and only then are both looked up). The worker sends the',
    '  applies with undici\'s `request` on kept-alive connections and drains their answers unparsed: client-node\'s',
    '  own `fetch` wrapper, which makes a request context and a new agent per call, costs nearly twice the worker',
    '  CPU per request. Up to four requests at once go over HTTP/1.1 (a create\'s calls, one per job slot: about',
    '  736 against 971 µs of worker CPU per call over HTTP/2), anything beyond over one HTTP/2 connection (a',
    '  purge\'s burst of delete-collections: over HTTP/1.1 alone each needed its own connection, and a purge took',
    '  two to three times as long).',
    '  Where the worker\'s CPU goes, from `node --cpu-prof` over 40 timed creates (`bench/cpu-profile.ts`, self time):',
    '  a quarter in native socket writes, each a system call that on loopback also wakes the receiver (ioredis\' and',
    '  undici\'s about 8% each, log lines 2%); undici\'s JavaScript 11–13%; BullMQ\'s `updateProgress` and',
    '  `updateData` about 10% with their writes; garbage collection 0.6–3% with the shipped flags, 0.6% with V8\'s host',
    '  defaults, so pinning the heap costs at most half a millisecond per trainee. The quota\'s 25 object-count',
    '  entries cost the worker about 2.5 ms per trainee (25.0 against 22.0 and 23.0 ms without them, back to back',
    '  on a quiet machine; what grows is the quota\'s apply and its answer). The same code measured 21–42 ms',
    '  per trainee on the shared machine as its load changed (same flags, minutes apart): compare runs back to back.',
    '  Since that profile: a create\'s Keycloak calls (find, create, the attribute read and write, password, delete,',
    '  groups) go with undici\'s `request` on the adapter\'s kept-alive agent, not through the admin client\'s',
    '  `fetch` (Node\'s bundled undici, 7% of the worker\'s CPU before), which now serves only listings and group',
    '  lookups: the client CPU of a create\'s Keycloak calls fell by about 43% (5.8 → 3.2 ms per user in one process,',
    '  old and new adapters alternating), and the worker\'s CPU per trainee was lower in seven of seven back-to-back',
    '  pairs (e.g. 25.0 → 15.5, 23.2 → 18.8 ms). BullMQ\'s writes per create are 12 (nine progress reports, three',
    '  state records: the records a later attempt can rebuild go with the next ownership mark), not 15; Grafana\'s',
    '  two lookups before its create are gone; the plan\'s spec hashes are worked out once.',
    '  P2b: per trainee the worker makes 12 HTTP requests (8 to the apiserver, 2 each to Keycloak and Grafana)',
    '  and about 16 Redis commands (the job\'s fetch and completion, nine progress reports, three state records,',
    '  its lock). In a profile of 40 creates on 2026-11-27 (the code measured here, but for the one-write mark),',
    '  undici and its socket writes took 29% of the worker\'s CPU, ioredis and BullMQ with theirs 16%, garbage',
    '  collection 6%, and the rest was spread over Node\'s event loop, streams, timers, abort signals, log lines and',
    '  metrics, none above 4%. Measured alone (warm, 400 calls, 4 at once), an apiserver read costs the worker',
    '  0.35 ms of CPU, a Keycloak lookup 0.25 ms, a progress report 15–44 µs. The worker spent 15.5–26.5 ms per',
    '  trainee over thirteen P2 runs that day, while Keycloak spent 36–77 ms per bare create: at ≤ 0.25× of a warm',
    '  Keycloak the whole job would have 9–12 ms, of which the requests and commands alone take about 8 (45% of',
    '  17). On loopback each write also runs the receiver\'s side of TCP on the writer\'s CPU, which over a network',
    '  the receiving host pays. Meeting it takes fewer calls per trainee, not cheaper ones.',
    '  Later that day: a read of an object not there (a create\'s two namespace reads) answers "absent" without',
    '  building client-node\'s ApiException (its message JSON-encodes the answer\'s body and headers) and an',
    '  UpstreamError, each with its stack; and the kubeconfig\'s credentials and TLS options are resolved once a',
    '  second, not for each request (a rotated certificate is picked up within that second). Worker CPU per',
    '  trainee, old and new alternating: 15.0 → 12.5 and 18.3 → 15.0 ms. And P2 now warms the worker with as many',
    '  creates as it times (40; it was 4, the concurrency): after 4, most timed creates ran in V8\'s interpreter and',
    '  baseline tiers, at 20–30% more CPU per trainee (27.2, 23.5, 22.3 ms against 22.7, 19.3, 15.0 after 40 or 80,',
    '  alternating runs). A deployed worker is warm, and Keycloak\'s side had its warm-up rounds already.',
    '  With both, the worker spent 12.5–19.5 ms per trainee over five runs (16.5 in the run above, the first with',
    '  the worker\'s malloc settings of docs/operations.md, "Heap sizes"), while Keycloak, started that morning,',
    '  spent 73–86 ms per bare create: 0.17–0.27×. Keycloak\'s own CPU per',
    '  create keeps falling for an hour of runs after a start (to 36–54 ms the day before), and against those',
    '  figures the same worker would be at 0.23–0.54×: the target is met against a Keycloak still warming, and',
    '  not reliably against a warm one.',
    ...p2CpuLines(p2),
    '- P3: the old loop sends every namespace one delete-collection per type, 29 here, nearly all empty. Ours',
    '  takes one inventory per run (one cluster-wide, metadata-only list per type, about 30 lists), then sends each',
    '  namespace whose fittings are current only the delete-collections of the types it holds (one here: its',
    '  ConfigMaps), with no re-apply, no namespace read and no Keycloak lookup. The shipped worker RBAC may not list',
    '  trainee objects (403: it would read every Secret) but ServiceAccounts (names only, no secret in them), so the',
    '  inventory lists the playground quotas instead (one list): each quota counts the objects of the types a purge',
    '  empties (`count/…` entries), and a type whose synced count is 0 is skipped. ConfigMaps, where a cluster keeps',
    '  `kube-root-ca.crt`, are emptied wherever it does; ServiceAccounts are listed, so the `default` one does not',
    '  count: one delete-collection per namespace here, as with the admin\'s rights (docs/design.md, "Object counts").',
    '  Each delete-collection carries its options in the query, not as a body: undici closes an HTTP/1.1 connection',
    '  after a DELETE with a body, and each one then paid a TLS handshake on both sides (a quarter of the worker\'s',
    '  CPU per namespace).',
    '  Without the wait for a quiet Keycloak, the first of our runs paid for the JVM\'s own work after the seeding\'s',
    '  1,000 creates and the listings (collection, compilation): in the 2026-11-27 05:45 run Keycloak spent 7.1 ms of',
    '  CPU per namespace during it against 0.7 ms in the second run, and the fan-out\'s listing took about 10 s',
    '  instead of 1 (P3 9.23×, P3s 13.17×). The untimed listing alone did not remove it; with the wait as well, the',
    '  same runs took Keycloak about 0.5–0.9 ms per namespace. A live realm does that work between resets, not in one.',
    '- P5: a fleet run pages through the managed users in Keycloak and adds one child job per user; the',
    '  children run on the worker\'s concurrency. Time per user that grows with the count means a cost per page',
    '  that grows with the offset (Keycloak paging) or per child that grows with the queue.',
    '  Most of a dry run\'s time is the listing. The fan-out walks the users again until a pass finds nobody new',
    '  (anyone a deletion shifted past a page boundary); a later pass reads usernames only, and a page in full only',
    '  when a username on it is new to the run. A second full pass had Keycloak load 20,000 users from its database',
    '  again (beyond the 10,000 it caches; measured alone on 2026-11-27, pages of 1,000: a full listing 6.7–9.9 ms',
    '  per user cold, 4.2 ms on the second walk; a usernames-only listing 1.0–1.2 ms cold). A sync dry run\'s',
    '  children report from the user as listed and ask Keycloak nothing; a run\'s end reads its children\'s results',
    '  1,000 at a time, not in one reply (8 MB of JSON at 20,000).',
    ...(p5 ? [`  Each round's ratio, in the run the P5 rows come from: ${p5RoundRatios(p5)}.`] : []),
    '  Before the sizes took turns, one ran after the other in the stack\'s own realm, and between them a',
    '  partialImport rewrote 18,000 users to mark them managed (1 to 15 minutes, and Keycloak\'s database grew',
    '  with every run): runs of the same code on 2026-11-27 measured P5a 1.01×, 1.52× and 0.82×, P5b 1.07×, 1.54×',
    '  and 0.93×, P5c 1.47× (before the walk below), 1.24× and 0.66×, while the machine\'s steal time reached 9%.',
    '  A size is now a realm of its own and nothing is marked during a run; what the machine does meanwhile lands',
    '  on both sizes\' rounds, and the rounds above show how far one of them strays from the row.',
    '  P5c: `GET /trainees` pages at most 200 trainees. Keycloak\'s attribute search (`q=managed-by:…`) finds and',
    '  sorts every matching user for each page it answers, whatever the offset, so paging N trainees that way',
    '  costs ~N²/200 of it (1.47× at 17:52 on 2026-11-27). Measured alone (20,000 matching, cache emptied, pages',
    '  of 200), a page by the search cost Keycloak 450–520 ms, the same page of the realm\'s own list by username',
    '  360–440 ms, flat from the first page to the last; a count with the search 150 ms, without it 20 ms. So a',
    '  first page counts the trainees and the realm\'s users under the prefix, and walks the realm\'s list (dropping',
    '  users the provisioner does not manage) when the trainees are at least half of them (docs/trainees.md): the',
    '  20,000 are walked so here, while the 2,000, a tenth of the users under the prefix, take the search, whose',
    '  term is small at that size. Trainees that are a minority of a large realm pay the search\'s term; an index',
    '  of our own or a cursor Keycloak can seek to would remove it. Page size is no way out: while its users are',
    '  not cached, a full page costs Keycloak more per user the larger it is (alone, cache emptied: 2.8 ms per user',
    '  in pages of 200, 3.1 of 500, 4.7 of 1,000, 8.3 of 2,000; cached 1.7, 0.9, 0.7 and 0.4), and a page of 1,000',
    '  once took longer than a query may wait (`QUERY_TIMEOUT_SECONDS`, 10 s). The fleet runs\' full pages of 1,000',
    '  (`FLEET_PAGE_SIZE`) suit a realm Keycloak holds in its cache; past it, smaller pages would cost Keycloak',
    '  less per user (not measured end to end).',
    '  P5d: with the worker tracing its collections, V8\'s heap stayed under 106 MB committed (50–60 MB live)',
    '  while the process reached 235 MB in the 20,000-user sync dry run. The rest was memory glibc\'s malloc kept',
    '  after large frees; the worker\'s manifest sets the malloc thresholds the api\'s sets (docs/operations.md,',
    '  "Heap sizes"): +26.4 to +42.4 MB between the sizes in runs since, +48.3 to +51.8 MB in three runs with',
    '  glibc\'s defaults. Each size now has a worker of its own, so neither peak carries the other size\'s heap.',
    '',
    '## Raw figures',
    '',
    '```json',
    JSON.stringify({ p1, p2, p3, p4, p5, p6 }, null, 2),
    '```',
    '',
    '## Rerun',
    '',
    '```sh',
    'npm run stack:up          # the local stack (reused if it runs)',
    'npm run bench             # all of P1–P5: 1,000 namespaces for P3, 40 creates for P2, 2,000 and 20,000 users for P5',
    'npm run bench -- --namespaces 100 --creates 10 --seconds 5 --p5-small 200 --p5-large 2000   # quicker',
    'npm run bench -- --only p5 --p5-drop --no-write             # P5, then remove its realms',
    'npm run bench -- --only p1 --merge   # remeasure P1, keep the other figures of the last run',
    'npm run bench -- --only p1,p4 --no-write                     # a subset: rewrites neither this page nor the figures --merge reuses',
    '```',
    '',
    'The bench uses its own queue prefixes (`bench-p<n>-<tag>`) and names (`<tag>-…`), and removes the jobs,',
    'users and namespaces it made, also when stopped by SIGINT or SIGTERM (a second signal exits at once). P5\'s',
    'realms (`kup-p5-<managed>-of-<users>`, 40,000 users in all by default) stay for the next run; `--p5-drop`',
    'removes them. Logs of the processes it starts: `test-artifacts/bench/`.',
    '',
  ];
  return lines.join('\n');
}

/** Where P2's CPU goes, by process, and the best ratio the machine's cores allow at that cost. */
function p2CpuLines(p2: CreateFigures | undefined): string[] {
  if (!p2?.cpuMsPerTrainee || !p2.keycloakOnlyCpuMsPerUser) return [];
  const sum = (cpu: Record<string, number>) => Object.values(cpu).reduce((a, b) => a + b, 0);
  const list = (cpu: Record<string, number>) =>
    Object.entries(cpu)
      .filter(([, ms]) => ms >= 0.5)
      .sort(([, a], [, b]) => b - a)
      .map(([name, ms]) => `${name} ${round(ms)}`)
      .join(', ');
  const e2e = sum(p2.cpuMsPerTrainee);
  const alone = sum(p2.keycloakOnlyCpuMsPerUser);
  const lines = [
    `  CPU per trainee, measured (ms): ${list(p2.cpuMsPerTrainee)}; ${round(e2e)} in all (the worker's share is P2b). Keycloak alone`,
    `  spends ${round(alone)} ms per user (${list(p2.keycloakOnlyCpuMsPerUser)}). When the shared cores are the limit,`,
    `  the end-to-end ratio (P2i) cannot pass ${round(alone / e2e, 2)}× (${round(alone)} / ${round(e2e)}): the other systems a trainee needs run on`,
    '  the cores Keycloak would otherwise have, and Keycloak itself burns more CPU per call while it competes',
    '  for them.',
  ];
  const jobs = p2.keycloakJobCallsPerSecond;
  const jobsKeycloakMs = p2.keycloakJobCallsCpuMsPerUser?.keycloak;
  if (jobs !== undefined && jobsKeycloakMs !== undefined) {
    lines.push(
      `  Keycloak alone, a create job's own calls (create with password, then the \`provisioned\` mark with the`,
      `  Grafana id, through the worker's adapter) go at ${jobs}/s against ${p2.keycloakPerSecond}/s for bare creates: ${round(jobs / p2.keycloakPerSecond, 2)}× (Keycloak CPU`,
      `  ${round(jobsKeycloakMs)} ms against ${round(p2.keycloakOnlyCpuMsPerUser.keycloak ?? 0)} ms per user): the difference is the mark, and the job's two attributes`,
      '  more (expiry, and `grafana-user-id: none` until the mark).',
      '  Keycloak 26\'s user update replaces what it is sent (the attribute map whole; an email left out is',
      '  removed), so the mark is a full write. It was a read of the user and that write; for the user the same',
      '  attempt created it is now the write alone, of the user as the job sent it (docs/design.md, step 4): the read',
      '  cost Keycloak about as much as the write (warm JVM, 120 users, 4 at once: 2.9–3.2 ms of Keycloak CPU per',
      '  read, 3.7–4.4 ms per write). What is left is a fixed few milliseconds per user, while Keycloak\'s CPU per bare',
      '  create falls as its JVM warms (from 86 ms after a start to 36 ms an hour of runs later, same stack). Over',
      '  the P2 runs of 2026-11-27 with the one write, P2a was 0.85–0.98× (0.93, 0.98, 0.91, 0.97 and 0.98 in the',
      '  last five, the last three with eight rounds of 120), and 0.80× once, in a full run on a busier machine with',
      '  six rounds of 40 (0.79× with the read, in the last full run before it); 0.77× in the full run of',
      '  2026-11-28, started seconds after the stack (its rounds 0.47–1.02×), and 1.01× (rounds 0.94–1.12×) on the same',
      '  stack an hour later: runs now start once the stack is quiet. No cheaper write marks a user: adding the user to a',
      '  group and removing it again cost Keycloak 4.7–5.8 ms together, and group membership is not in the user',
      '  listings the fleet jobs page through.',
    );
  }
  return lines;
}
