// `tsx --conditions=source bench/p5-paging.ts [pageSizes=100,500] [users=all]`
// Where P5's listing time goes, read from Keycloak alone: walks the cached P5 users (idle,
// see p5-users.ts) the way the worker pages through managed users (`q=managed-by:…`, full
// representation, `first`/`max`), and prints the time per user of each stretch of 2,000,
// per page size; then the first 1,000 users of two narrower listings (a username filter
// matching 10,000 of 20,000 cached users, and one matching 1,000). If the time per user grows
// along the walk, or with how many users match, a listing of N users costs more than N
// times one. Reads only: nothing to clean up.
import { fetch } from 'undici';
import { env, keycloakAdminToken, loadStackEnv, round, stackAgent } from './lib.js';
import { P5_IDLE, P5_PREFIX } from './p5-users.js';

/** Walks the listing page by page; prints ms per user for each stretch of 2,000 users and overall. */
async function walk(label: string, query: Record<string, string>, max: number, limit: number): Promise<void> {
  // Client tokens live a few minutes; a walk on a busy machine can take longer.
  let token = await keycloakAdminToken();
  let tokenAt = performance.now();
  const started = performance.now();
  let first = 0;
  let stretch = { from: 0, ms: 0, users: 0 };
  for (;;) {
    if (performance.now() - tokenAt > 60_000) {
      token = await keycloakAdminToken();
      tokenAt = performance.now();
    }
    const page = performance.now();
    const params = new URLSearchParams({ ...query, briefRepresentation: 'false', first: String(first), max: String(max) });
    const res = await fetch(`${env('KEYCLOAK_URL')}/admin/realms/${env('KEYCLOAK_REALM')}/users?${params.toString()}`, { dispatcher: stackAgent(), headers: { authorization: `Bearer ${token}` } });
    if (!res.ok) throw new Error(`list users: ${res.status}`);
    const users = ((await res.json()) as unknown[]).length;
    stretch = { from: stretch.from, ms: stretch.ms + performance.now() - page, users: stretch.users + users };
    first += users;
    const done = users < max || first >= limit;
    if (stretch.users >= 2000 || done) {
      if (stretch.users > 0) console.log(`  ${label} max=${max}: users ${stretch.from}…${first - 1}: ${round((stretch.ms * 1000) / stretch.users)} µs per user`);
      stretch = { from: first, ms: 0, users: 0 };
    }
    if (done) break;
  }
  console.log(`${label} max=${max}: ${first} users, ${round(((performance.now() - started) * 1000) / Math.max(first, 1))} µs per user`);
}

loadStackEnv();
const sizes = (process.argv[2] ?? '100,500').split(',').map(Number);
const limit = Number(process.argv[3] ?? Number.POSITIVE_INFINITY);
const q = `managed-by:${P5_IDLE}`;
for (const max of sizes) {
  await walk('all P5 users', { q }, max, limit);
  // `username` is a substring match: `kup-p5-01` matches users 010000…019999, `kup-p5-011` 011000…011999.
  await walk(`only ${P5_PREFIX}01…`, { q, username: `${P5_PREFIX}01` }, max, 1000);
  await walk(`only ${P5_PREFIX}011…`, { q, username: `${P5_PREFIX}011` }, max, 1000);
}
await stackAgent().close();
