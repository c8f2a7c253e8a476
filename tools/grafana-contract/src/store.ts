// The users of the stand-in, in memory and optionally in a JSON data file that is rewritten
// (atomically, via a temporary file and a rename) on every change, so users survive a restart.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export type OrgRole = 'Viewer' | 'Editor' | 'Admin' | 'None';
export const ORG_ROLES: readonly OrgRole[] = ['Viewer', 'Editor', 'Admin', 'None'];

export interface StoredUser {
  id: number;
  uid: string;
  login: string;
  email: string;
  name: string;
  /** `pbkdf2-sha256$<saltHex>$<hashHex>` (see passwords.ts) */
  passwordHash: string;
  orgId: number;
  role: OrgRole;
  isGrafanaAdmin: boolean;
  createdAt: string;
  updatedAt: string;
}

interface StateFile {
  version: 1;
  nextId: number;
  users: StoredUser[];
}

/** Logins and emails are unique and looked up case-insensitively, as in Grafana. */
export function sameText(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

export class UserStore {
  private users = new Map<number, StoredUser>();
  private nextId = 1;

  constructor(private readonly dataFile: string | undefined) {}

  load(): void {
    if (!this.dataFile) return;
    let text: string;
    try {
      text = readFileSync(this.dataFile, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    const state = JSON.parse(text) as StateFile;
    if (state.version !== 1 || !Array.isArray(state.users)) {
      throw new Error(`grafana-contract: unrecognised data file ${this.dataFile}`);
    }
    for (const u of state.users) this.users.set(u.id, u);
    const maxId = Math.max(0, ...state.users.map((u) => u.id));
    this.nextId = Math.max(state.nextId ?? 1, maxId + 1);
  }

  save(): void {
    if (!this.dataFile) return;
    const state: StateFile = { version: 1, nextId: this.nextId, users: [...this.users.values()] };
    mkdirSync(dirname(this.dataFile), { recursive: true });
    const tmp = `${this.dataFile}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });
    renameSync(tmp, this.dataFile);
  }

  all(): StoredUser[] {
    return [...this.users.values()].sort((a, b) => a.id - b.id);
  }

  byId(id: number): StoredUser | undefined {
    return this.users.get(id);
  }

  /** Login first, then email; both case-insensitive (as Grafana's login-or-email lookup). */
  byLoginOrEmail(value: string): StoredUser | undefined {
    if (value === '') return undefined;
    const all = this.all();
    return all.find((u) => sameText(u.login, value)) ?? all.find((u) => sameText(u.email, value));
  }

  conflicts(login: string, email: string, exceptId?: number): boolean {
    for (const u of this.users.values()) {
      if (u.id === exceptId) continue;
      if (sameText(u.login, login) || sameText(u.email, email)) return true;
    }
    return false;
  }

  insert(user: Omit<StoredUser, 'id'>, id?: number): StoredUser {
    const stored: StoredUser = { ...user, id: id ?? this.nextId };
    this.nextId = Math.max(this.nextId, stored.id + 1);
    this.users.set(stored.id, stored);
    this.save();
    return stored;
  }

  update(user: StoredUser): void {
    this.users.set(user.id, user);
    this.save();
  }

  remove(id: number): boolean {
    const ok = this.users.delete(id);
    if (ok) this.save();
    return ok;
  }
}
