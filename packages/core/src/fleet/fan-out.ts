import type { IdentityProvider, IdentityUser } from '../ports/identity-provider.js';
import type { FanOutState } from '../queue/fleet-contract.js';

/** Where discovered trainees go: the worker adds one child job per new username. */
export interface ChildSink {
  /**
   * Adds children for the usernames not seen before in this run; returns how many were new.
   * `listed`: the users as the listing gave them, by username (a purge child starts from that).
   */
  addNew(usernames: string[], listed?: ReadonlyMap<string, IdentityUser>): Promise<number>;
}

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

/**
 * Pages through the managed users (never the whole list in memory) and hands each page's
 * selected usernames to the sink. Children run while this pages, and cleanup's children
 * delete users, which shifts Keycloak's offsets: so the listing is walked again until a
 * whole pass finds nobody new (at most `maxPasses`). The sink deduplicates.
 */
export async function fanOut(identity: Pick<IdentityProvider, 'listManaged'>, from: FanOutState, sink: ChildSink, options: FanOutOptions): Promise<FanOutState> {
  let state = from;
  while (state.step === 'fan-out') {
    const page = await identity.listManaged(state.cursor, options.pageSize, options.signal);
    const selected = page.users.filter(options.select);
    const names = selected.map((user) => user.username);
    const fresh = names.length > 0 ? await sink.addNew(names, new Map(selected.map((user) => [user.username, user]))) : 0;
    state = { ...state, cursor: page.next ?? state.cursor, addedThisPass: state.addedThisPass + fresh, added: state.added + fresh };
    if (page.next === undefined) {
      state =
        state.addedThisPass === 0 || state.pass >= options.maxPasses
          ? { ...state, step: 'wait-children' }
          : { ...state, pass: state.pass + 1, cursor: 0, addedThisPass: 0 };
    }
    await options.save(state);
  }
  return state;
}
