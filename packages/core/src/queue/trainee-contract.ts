import { z } from 'zod';
import { JOBS } from './contract.js';
import { defineQuery } from './query-contract.js';

/**
 * Trainees as resources: the reads the API asks the worker for (`trainees.list`,
 * `trainees.show`) and the jobs that move or carry out a trainee's expiry (`set-expiry`,
 * `expire`, on the provisioning queue, under the trainee's lock).
 */

const username = z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'not a DNS-1123 label');
const isoDateTime = z.iso.datetime({ offset: true });

export const TRAINEE_STATES = ['provisioned', 'incomplete'] as const;
export type TraineeState = (typeof TRAINEE_STATES)[number];

/**
 * The most trainees one page holds. A page is one Keycloak listing, and a user Keycloak no
 * longer holds in its cache costs it about 7 ms to load: a page of 1,000 such users took it
 * longer than a query may wait (QUERY_TIMEOUT_SECONDS, 10 s). Larger pages would make a
 * walk of N users cheaper per user, as its attribute search costs per page about as much as
 * the users it matches (docs/benchmarks.md, P5c).
 */
export const TRAINEE_PAGE_MAX = 200;

// ---- trainees.list ----

/** The lists a trainee page can be read from (trainee-view.ts, "walks"). */
export const TRAINEE_WALKS = ['managed', 'realm'] as const;
export type TraineeWalk = (typeof TRAINEE_WALKS)[number];

export const traineeListFilters = z.strictObject({
  /** Usernames starting with this. */
  prefix: z.string().regex(/^[a-z0-9][-a-z0-9]{0,62}$/, 'a username prefix: lower-case letters, digits and -').optional(),
  /** `provisioned`: complete in every system; `incomplete`: a create has not finished (or failed half-way). */
  state: z.enum(TRAINEE_STATES).optional(),
  /** Trainees whose expiry is before this instant (none: no expiry filter). */
  expiresBefore: isoDateTime.optional(),
  /** Trainees created before this instant. */
  createdBefore: isoDateTime.optional(),
});
export type TraineeListFilters = z.infer<typeof traineeListFilters>;

export const traineeSummary = z.object({
  username: z.string(),
  email: z.string().nullable(),
  fullName: z.string().nullable(),
  created: z.string(),
  /** The `expires-at` Keycloak holds; null when the trainee has none. */
  expires: z.string().nullable(),
  provisioned: z.boolean(),
});
export type TraineeSummary = z.infer<typeof traineeSummary>;

export const traineeListQuery = defineQuery(
  'trainees.list',
  traineeListFilters.extend({
    limit: z.number().int().min(1).max(TRAINEE_PAGE_MAX),
    /** Position in the walk's list (ordered by username) to start from. */
    offset: z.number().int().min(0),
    /**
     * Which list `offset` counts in (trainee-view.ts): `managed` (Keycloak's attribute search,
     * also when absent: cursors of older APIs), `realm` (every user), or `choose` on a first page.
     */
    walk: z.enum(TRAINEE_WALKS).or(z.literal('choose')).optional(),
  }),
  z.object({
    items: z.array(traineeSummary),
    /** Where the next page starts; null on the last page. */
    nextOffset: z.number().int().min(0).nullable(),
    /** The list `nextOffset` counts in (absent from older workers: `managed`). */
    walk: z.enum(TRAINEE_WALKS).optional(),
  }),
);

// ---- trainees.show ----

const keyValues = z.record(z.string(), z.string());

export const FITTING_STATES = ['current', 'drifted', 'missing', 'stale'] as const;

/** One object the plan wants in the namespace (or wants gone: `stale`), compared with the cluster. */
export const fittingView = z.object({
  kind: z.string(),
  name: z.string(),
  state: z.enum(FITTING_STATES),
  /** Fields whose value differs from the plan (dotted paths), for a drifted fitting. */
  drift: z.array(z.string()).optional(),
});

export const traineeDetail = z.object({
  username: z.string(),
  keycloak: z.object({
    id: z.string(),
    email: z.string().nullable(),
    fullName: z.string().nullable(),
    enabled: z.boolean(),
    created: z.string(),
    /** The provisioner's attributes on the user. */
    attributes: z.object({
      managedBy: z.string(),
      provisioned: z.boolean(),
      expiresAt: z.string().nullable(),
      grafanaUserId: z.number().int().nullable(),
    }),
  }),
  namespace: z
    .object({
      name: z.string(),
      phase: z.string(),
      labels: keyValues,
      annotations: keyValues,
      /** Namespace labels and annotations that differ from the plan. */
      drift: z.array(z.string()),
      fittings: z.array(fittingView),
    })
    .nullable(),
  grafana: z.object({
    /** The account the provisioner recorded for the trainee (`grafana-user-id`). */
    recordedId: z.number().int().nullable(),
    /** `ok`: the recorded account exists under the trainee's login; `missing`: no such login; `unrecorded`: a login exists but is not the recorded one. */
    state: z.enum(['ok', 'missing', 'unrecorded']),
    account: z.object({ id: z.number().int(), login: z.string(), email: z.string() }).nullable(),
  }),
});
export type TraineeDetail = z.infer<typeof traineeDetail>;

export const traineeShowQuery = defineQuery(
  'trainees.show',
  z.strictObject({ username }),
  // `managed: false` for an unmanaged Keycloak user and for no user at all alike: a caller learns nothing about users the provisioner does not manage.
  z.discriminatedUnion('managed', [z.object({ managed: z.literal(false) }), z.object({ managed: z.literal(true), trainee: traineeDetail })]),
);

// ---- trainees.find: Keycloak alone, for routes that only need to know the trainee is ours ----

export const traineeFindQuery = defineQuery(
  'trainees.find',
  z.strictObject({ username }),
  z.discriminatedUnion('managed', [z.object({ managed: z.literal(false) }), z.object({ managed: z.literal(true), trainee: traineeSummary })]),
);

// ---- set-expiry and expire jobs ----

export const setExpiryJobData = z.object({ username, expiresAt: isoDateTime });
export type SetExpiryJobData = z.infer<typeof setExpiryJobData>;

export const setExpiryJobResult = z.object({
  username,
  expiresAt: z.string(),
  previous: z.string().nullable(),
  /** The namespace's annotation was rewritten (false: the trainee has no namespace). */
  namespaceUpdated: z.boolean(),
});
export type SetExpiryJobResult = z.infer<typeof setExpiryJobResult>;

export const expireJobData = z.object({
  username,
  /** When the job is due (kept up to date as it is moved): for people reading the queue, never trusted to delete. */
  dueAt: z.string().optional(),
});
export type ExpireJobData = z.infer<typeof expireJobData>;

export const expireJobResult = z.object({
  username,
  /** The trainee was past its expiry and was removed (as a `DELETE /provisioner` would). */
  deleted: z.boolean(),
  expiresAt: z.string().nullable(),
  /** Why nothing was removed. */
  skipped: z.string().optional(),
});
export type ExpireJobResult = z.infer<typeof expireJobResult>;

/** One expiry job per trainee: moved, never doubled. */
export function expireJobId(name: string): string {
  return `${JOBS.expire}-${name}`;
}
export function setExpiryJobId(name: string): string {
  return `${JOBS.setExpiry}-${name}`;
}
