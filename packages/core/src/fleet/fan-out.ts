import type { IdentityProvider, IdentityUser } from '../ports/identity-provider.js';
import type { FanOutState } from '../queue/fleet-contract.js';

/** Where discovered trainees go: the worker adds one child job per new username. */
export interface ChildSink {
  /**
   * Adds children for the usernames not seen before in this run; returns how many were new.
   * `listed`: the users as the listing gave them, by username (a purge child starts from that).
   * `others`: the page's users that were not selected, remembered as seen all the same.
   */
  addNew(usernames: string[], listed?: ReadonlyMap<string, IdentityUser>, others?: string[]): Promise<number>;
  /** Those of `usernames` that no page of this run has shown yet (selected or not). */
  unseen(usernames: string[]): Promise<string[]>;
}

/** Whom a run pages through; with `listManagedNames`, passes after the first read usernames only. */
export type FanOutListing = Pick<IdentityProvider, 'listManaged'> & Partial<Pick<IdentityProvider, 'listManagedNames'>>;

export interface FanOutOptions {
  pageSize: number;
  /** A pass that finds nobody new ends the fan-out; this bounds the passes. */
  maxPasses: number;
  select: (user: IdentityUser) => boolean;
  /** Persists the state after each page, so a crashed parent resumes where it was. */
  save: (state: FanOutState) => Promise<void>;
  signal?: AbortSignal | undefined;
}

export const initialFanOut = (): FanOutState => ({ step: 'fan-out', pass: 1, cursor: 0, addedThisPass: 0, added: 0 });

/** Reads one page in full and hands its selected users to the sink; returns how many were new. */
async function fullPage(identity: FanOutListing, cursor: number, sink: ChildSink, options: FanOutOptions): Promise<{ fresh: number; next: number | undefined }> {
  const page = await identity.listManaged(cursor, options.pageSize, options.signal);
  const selected: IdentityUser[] = [];
  const others: string[] = [];
  for (const user of page.users) (options.select(user) ? selected.push(user) : others.push(user.username));
  const fresh = page.users.length > 0 ? await sink.addNew(selected.map((user) => user.username), new Map(selected.map((user) => [user.username, user])), others) : 0;
  return { fresh, next: page.next };
}

/**
 * A page of a later pass: its usernames first, and the full page only when one of them is
 * new to this run. Keycloak then loads no user it has already shown: over more users than
 * its cache holds, a second full pass costs it nearly as much as the first.
 */
async function laterPage(identity: FanOutListing, cursor: number, sink: ChildSink, options: FanOutOptions): Promise<{ fresh: number; next: number | undefined }> {
  if (!identity.listManagedNames) return fullPage(identity, cursor, sink, options);
  const page = await identity.listManagedNames(cursor, options.pageSize, options.signal);
  const unseen = page.usernames.length > 0 ? await sink.unseen(page.usernames) : [];
  return unseen.length > 0 ? fullPage(identity, cursor, sink, options) : { fresh: 0, next: page.next };
}

/**
 * Pages through the managed users (never the whole list in memory) and hands each page's
 * selected usernames to the sink. Children run while this pages, and cleanup's children
 * delete users, which shifts Keycloak's offsets: so the listing is walked again until a
 * whole pass finds nobody new (at most `maxPasses`). The sink deduplicates.
 */
export async function fanOut(identity: FanOutListing, from: FanOutState, sink: ChildSink, options: FanOutOptions): Promise<FanOutState> {
  let state = from;
  while (state.step === 'fan-out') {
    const { fresh, next } = state.pass === 1 ? await fullPage(identity, state.cursor, sink, options) : await laterPage(identity, state.cursor, sink, options);
    state = { ...state, cursor: next ?? state.cursor, addedThisPass: state.addedThisPass + fresh, added: state.added + fresh };
    if (next === undefined) {
      state =
        state.addedThisPass === 0 || state.pass >= options.maxPasses
          ? { ...state, step: 'wait-children' }
          : { ...state, pass: state.pass + 1, cursor: 0, addedThisPass: 0 };
    }
    await options.save(state);
  }
  return state;
}
