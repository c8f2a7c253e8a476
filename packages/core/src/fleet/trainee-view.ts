import { ANNOTATIONS, namespaceManifest, namespacedManifests, staleObjects } from '../domain/trainee-plan.js';
import type { ClusterGateway, KubeObject, NamespaceInfo } from '../ports/cluster-gateway.js';
import type { GrafanaGateway } from '../ports/grafana-gateway.js';
import { MANAGED_BY, type IdentityPage, type IdentityProvider, type IdentityUser } from '../ports/identity-provider.js';
import type { TraineeDetail, TraineeListFilters, TraineeSummary, TraineeWalk } from '../queue/trainee-contract.js';
import { traineeOf, type FleetSettings } from './fleet-context.js';

/**
 * What the trainee API shows, read from the three systems: a page of the managed users
 * (never the whole realm), and one trainee's live state compared with the plan.
 */

export interface TraineePage {
  items: TraineeSummary[];
  nextOffset: number | null;
  /** The list `nextOffset` counts in. */
  walk: TraineeWalk;
}

/** Keycloak pages looked at for one answer at most: a sparse filter returns a short page and a cursor. */
const MAX_PAGES_PER_ANSWER = 10;

/** Shown as the epoch when Keycloak gives no creation time: the API's `created` is always a date. */
const shownCreated = (user: IdentityUser): string => new Date(user.createdAt ?? 0).toISOString();

export function summaryOf(user: IdentityUser): TraineeSummary {
  return {
    username: user.username,
    email: user.email ?? null,
    fullName: user.fullName ?? null,
    created: shownCreated(user),
    expires: user.expiresAt ?? null,
    provisioned: user.provisioned,
  };
}

export function matchesFilters(user: IdentityUser, filters: TraineeListFilters): boolean {
  if (!user.managed) return false;
  if (filters.prefix !== undefined && !user.username.startsWith(filters.prefix)) return false;
  if (filters.state !== undefined && user.provisioned !== (filters.state === 'provisioned')) return false;
  if (filters.createdBefore !== undefined && !(user.createdAt !== undefined && user.createdAt < Date.parse(filters.createdBefore))) return false;
  if (filters.expiresBefore !== undefined) {
    const expires = user.expiresAt === undefined ? Number.NaN : Date.parse(user.expiresAt);
    if (!(expires < Date.parse(filters.expiresBefore))) return false;
  }
  return true;
}

/**
 * One page of trainees from `offset` in the walk's list, ordered by username. Users are
 * read a Keycloak page at a time and filtered as they come (the managed mark included);
 * the next offset is the position just after the last user looked at, so no user is
 * skipped or repeated while the realm does not change.
 */
export async function listTrainees(
  identity: Pick<IdentityProvider, 'listManaged' | 'listUsers' | 'countUsers'>,
  request: TraineeListFilters & { limit: number; offset: number; walk?: TraineeWalk | 'choose' | undefined },
  signal?: AbortSignal,
): Promise<TraineePage> {
  const items: TraineeSummary[] = [];
  const pageSize = Math.max(request.limit, 20);
  // Both lists are narrowed by the prefix alike: counted, then walked.
  const filter = request.prefix ? { usernameContains: request.prefix } : {};
  const walk = await chooseWalk(identity, request.walk, filter, signal);
  const read = readerOf(identity, walk, filter, signal);
  let position = request.offset;
  for (let pages = 0; pages < MAX_PAGES_PER_ANSWER; pages++) {
    const page = await read(position, pageSize);
    for (const [index, user] of page.users.entries()) {
      if (!matchesFilters(user, request)) continue;
      items.push(summaryOf(user));
      if (items.length === request.limit) {
        const more = index + 1 < page.users.length || page.next !== undefined;
        return { items, nextOffset: more ? position + index + 1 : null, walk };
      }
    }
    if (page.next === undefined) return { items, nextOffset: null, walk };
    position = page.next;
  }
  return { items, nextOffset: position, walk };
}

type UsernameFilter = { usernameContains?: string };

/**
 * The walks. Keycloak's attribute search (`managed`) finds and sorts every matching user
 * for each page it answers, so paging through N trainees costs it ~N² (docs/benchmarks.md,
 * P5c); the realm's own list by username (`realm`, narrowed by the prefix as both are) costs
 * per page what the page holds, but holds users the provisioner does not manage too, which
 * are read and dropped. A first page (`choose`) counts both lists and walks the realm when
 * the trainees are at least half of its users; the cursor keeps the walk, since an offset
 * means nothing in the other list.
 */
async function chooseWalk(
  identity: Pick<IdentityProvider, 'listUsers' | 'countUsers'>,
  walk: TraineeWalk | 'choose' | undefined,
  filter: UsernameFilter,
  signal: AbortSignal | undefined,
): Promise<TraineeWalk> {
  if (walk !== 'choose') return walk ?? 'managed';
  if (!identity.countUsers || !identity.listUsers) return 'managed';
  const [wanted, named] = await Promise.all([identity.countUsers({ managed: true, ...filter }, signal), identity.countUsers({ managed: false, ...filter }, signal)]);
  return wanted > 0 && wanted * 2 >= named ? 'realm' : 'managed';
}

function readerOf(
  identity: Pick<IdentityProvider, 'listManaged' | 'listUsers'>,
  walk: TraineeWalk,
  filter: UsernameFilter,
  signal: AbortSignal | undefined,
): (first: number, max: number) => Promise<IdentityPage> {
  if (walk === 'managed') return (first, max) => identity.listManaged(first, max, signal, filter);
  const { listUsers } = identity;
  if (!listUsers) throw new Error('this identity provider cannot list the realm: start again without the cursor');
  return (first, max) => listUsers.call(identity, first, max, signal, filter);
}

/** Dotted paths of `wanted` whose value `actual` does not hold (extra fields in `actual` are fine). */
export function driftOf(wanted: unknown, actual: unknown, path = ''): string[] {
  if (wanted !== null && typeof wanted === 'object' && !Array.isArray(wanted)) {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return [path || '(root)'];
    return Object.entries(wanted).flatMap(([key, value]) =>
      value === undefined ? [] : driftOf(value, (actual as Record<string, unknown>)[key], path ? `${path}.${key}` : key),
    );
  }
  if (Array.isArray(wanted)) {
    if (!Array.isArray(actual) || actual.length !== wanted.length) return [path];
    return wanted.flatMap((value, index) => driftOf(value, actual[index], `${path}[${index}]`));
  }
  return wanted === actual ? [] : [path];
}

/** What the plan sets on an object: everything but its name and namespace. */
function plannedFields(object: KubeObject): Record<string, unknown> {
  const { name: _name, namespace: _namespace, ...metadata } = object.metadata;
  return { ...object, metadata };
}

export interface TraineeViewPorts {
  identity: Pick<IdentityProvider, 'findUser'>;
  cluster: Pick<ClusterGateway, 'getNamespace' | 'get'>;
  grafana: Pick<GrafanaGateway, 'findUser'>;
}

/**
 * A managed namespace compared with the plan: its labels and annotations, each fitting
 * (current, drifted, missing) and the stale objects the plan removes. Sync's dry run reads
 * its repairs from this too.
 */
export async function namespaceViewOf(
  ports: Pick<TraineeViewPorts, 'cluster'>,
  settings: FleetSettings,
  user: IdentityUser,
  namespace: NamespaceInfo,
  signal?: AbortSignal,
): Promise<NonNullable<TraineeDetail['namespace']>> {
  const username = user.username;
  const planned = traineeOf(user, namespace, settings.defaultExpiryDays);
  // The namespace keeps the creation date the create wrote (a little before Keycloak's own).
  const trainee = { ...planned, createdAt: namespace.annotations[ANNOTATIONS.createdAt] ?? planned.createdAt };
  const wantedNamespace = namespaceManifest(settings.playground, trainee).metadata;
  const drift = [
    ...driftOf(wantedNamespace.labels, namespace.labels, 'labels'),
    ...driftOf(wantedNamespace.annotations, namespace.annotations, 'annotations'),
  ];
  const fittings: NonNullable<TraineeDetail['namespace']>['fittings'] = [];
  // Template objects are left out: the worker may write them but not read them (docs/playground-templates.md).
  for (const object of namespacedManifests({ ...settings.playground, templates: [] }, trainee)) {
    const ref = { apiVersion: object.apiVersion, kind: object.kind, name: object.metadata.name, namespace: username };
    const actual = await ports.cluster.get(ref, signal);
    if (!actual) {
      fittings.push({ kind: object.kind, name: ref.name, state: 'missing' });
      continue;
    }
    const paths = driftOf(plannedFields(object), actual);
    fittings.push({ kind: object.kind, name: ref.name, state: paths.length ? 'drifted' : 'current', ...(paths.length ? { drift: paths } : {}) });
  }
  for (const ref of staleObjects(settings.playground, username)) {
    if (await ports.cluster.get(ref, signal)) fittings.push({ kind: ref.kind, name: ref.name, state: 'stale' });
  }
  return { name: namespace.name, phase: namespace.phase, labels: namespace.labels, annotations: namespace.annotations, drift, fittings };
}

/** One trainee as the three systems hold it; undefined for a user the provisioner does not manage (or none). */
export async function describeTrainee(ports: TraineeViewPorts, settings: FleetSettings, username: string, signal?: AbortSignal): Promise<TraineeDetail | undefined> {
  const user = await ports.identity.findUser(username, signal);
  if (!user?.managed) return undefined;
  const [namespace, grafanaUser] = await Promise.all([ports.cluster.getNamespace(username, signal), ports.grafana.findUser(username, signal)]);
  const recordedId = typeof user.grafanaUserId === 'number' ? user.grafanaUserId : null;

  const namespaceView = namespace?.labels['managed-by'] === MANAGED_BY ? await namespaceViewOf(ports, settings, user, namespace, signal) : null;

  const grafanaState = !grafanaUser ? 'missing' : grafanaUser.id === recordedId ? 'ok' : 'unrecorded';
  return {
    username: user.username,
    keycloak: {
      id: user.id,
      email: user.email ?? null,
      fullName: user.fullName ?? null,
      enabled: user.enabled,
      created: shownCreated(user),
      attributes: { managedBy: MANAGED_BY, provisioned: user.provisioned, expiresAt: user.expiresAt ?? null, grafanaUserId: recordedId },
    },
    namespace: namespaceView,
    grafana: {
      recordedId,
      state: grafanaState,
      // Someone else's account under the login is not shown: only that it is not the recorded one.
      account: grafanaUser && grafanaState === 'ok' ? { id: grafanaUser.id, login: grafanaUser.login, email: grafanaUser.email } : null,
    },
  };
}
