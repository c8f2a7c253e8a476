import { randomUUID } from 'node:crypto';
import { UpstreamError } from '../errors.js';
import { ANNOTATIONS } from '../domain/trainee-plan.js';
import type { AccessQuestion, ClusterGateway, ClusterInventory, KeptObject, KindInfo, KubeObject, NamespaceInfo, ObjectRef } from '../ports/cluster-gateway.js';
import type { CreatedIdentityUser, IdentityPage, IdentityProvider, IdentityUser, NewIdentityUser, UsernamePage } from '../ports/identity-provider.js';
import { Fake } from './fake-base.js';

/** Small in-memory stand-ins for the ports, for unit tests of the domain services (fake-base.ts). */


export class FakeIdentity extends Fake implements IdentityProvider {
  readonly users = new Map<string, IdentityUser & { password?: string }>();

  add(user: Partial<IdentityUser> & { username: string }): IdentityUser {
    const full = { id: randomUUID(), email: undefined, enabled: true, managed: true, provisioned: false, expiresAt: undefined, createdAt: Date.now(), ...user };
    this.users.set(full.id, full);
    return full;
  }

  byName(username: string) {
    return [...this.users.values()].find((u) => u.username === username);
  }

  async findUser(username: string) {
    this.call('findUser');
    const user = this.byName(username);
    return user && { ...user };
  }
  async createUser(user: NewIdentityUser) {
    this.call('createUser');
    if (this.byName(user.username)) throw new UpstreamError('keycloak', 'create user', 409);
    const { firstName, lastName, ...rest } = user;
    const fullName = [firstName, lastName].filter((part) => part).join(' ');
    // As the Keycloak adapter: a user of this version records "no Grafana account yet".
    return this.add({ ...rest, ...(fullName ? { fullName } : {}), grafanaUserId: null }).id;
  }
  async setPassword(userId: string, password: string) {
    this.call('setPassword');
    this.#get(userId).password = password;
  }
  async setProvisioned(userId: string, provisioned: boolean, _signal?: AbortSignal, grafanaUserId?: number) {
    this.call('setProvisioned');
    this.#get(userId).provisioned = provisioned;
    if (grafanaUserId !== undefined) this.#get(userId).grafanaUserId = grafanaUserId;
  }
  async setCreatedProvisioned(userId: string, created: CreatedIdentityUser, grafanaUserId: number) {
    this.call('setCreatedProvisioned');
    const user = this.#get(userId);
    // As Keycloak's update: the user becomes what was sent (a missing email is removed).
    Object.assign(user, { username: created.username, email: created.email, expiresAt: created.expiresAt, profile: created.profile, provisioned: true, grafanaUserId });
  }
  async setGrafanaUserId(userId: string, grafanaUserId: number | null) {
    this.call('setGrafanaUserId');
    this.#get(userId).grafanaUserId = grafanaUserId;
  }
  async setExpiresAt(userId: string, expiresAt: string | undefined) {
    this.call('setExpiresAt');
    this.#get(userId).expiresAt = expiresAt;
  }
  async setProfile(userId: string, profile: string) {
    this.call('setProfile');
    this.#get(userId).profile = profile;
  }
  async adopt(userId: string) {
    this.call('adopt');
    this.#get(userId).managed = true;
  }
  async deleteUser(userId: string) {
    this.call('deleteUser');
    return this.users.delete(userId);
  }
  async listManaged(first: number, max: number): Promise<IdentityPage> {
    this.call('listManaged');
    return this.listPage(first, max);
  }
  private async listPage(first: number, max: number, everyone = false, contains = ''): Promise<IdentityPage> {
    const listed = [...this.users.values()].filter((u) => (everyone || u.managed) && u.username.includes(contains));
    const users = listed.slice(first, first + max);
    return { users, next: first + max < listed.length ? first + max : undefined };
  }
  async listUsers(first: number, max: number, _signal?: AbortSignal, filter: { usernameContains?: string } = {}): Promise<IdentityPage> {
    this.call('listUsers');
    return this.listPage(first, max, true, filter.usernameContains);
  }
  async countUsers(filter: { managed: boolean; usernameContains?: string }): Promise<number> {
    this.call('countUsers');
    const contains = filter.usernameContains ?? '';
    return [...this.users.values()].filter((u) => (u.managed || !filter.managed) && u.username.includes(contains)).length;
  }
  async listManagedNames(first: number, max: number): Promise<UsernamePage> {
    this.call('listManagedNames');
    const { users, next } = await this.listPage(first, max);
    return { usernames: users.map((user) => user.username), next };
  }
  /** Group name → member ids. */
  readonly groups = new Map<string, Set<string>>();
  async findGroup(name: string) {
    this.call('findGroup');
    return this.groups.has(name) ? name : undefined;
  }
  async ensureGroup(name: string) {
    this.call('ensureGroup');
    if (!this.groups.has(name)) this.groups.set(name, new Set());
    return name;
  }
  async addToGroup(userId: string, groupId: string) {
    this.call('addToGroup');
    this.groups.get(groupId)?.add(this.#get(userId).id);
  }
  async listGroupMembers(groupId: string, first: number, max: number): Promise<IdentityPage> {
    this.call('listGroupMembers');
    const members = [...(this.groups.get(groupId) ?? [])].flatMap((id) => this.users.get(id) ?? []);
    return { users: members.slice(first, first + max), next: first + max < members.length ? first + max : undefined };
  }
  async listGroups(prefix: string, first: number, max: number) {
    this.call('listGroups');
    const names = [...this.groups.keys()].filter((name) => name.startsWith(prefix)).sort();
    return { groups: names.slice(first, first + max).map((name) => ({ id: name, name })), next: first + max < names.length ? first + max : undefined };
  }
  async groupsOf(userId: string) {
    this.call('groupsOf');
    return [...this.groups].filter(([, members]) => members.has(userId)).map(([name]) => name);
  }
  async deleteGroup(groupId: string) {
    this.call('deleteGroup');
    return this.groups.delete(groupId);
  }
  #get(userId: string) {
    const user = this.users.get(userId);
    if (!user) throw new UpstreamError('keycloak', 'update user', 404);
    return user;
  }
}

const keyOf = (ref: { kind: string; name: string; namespace?: string | undefined }) => `${ref.kind}/${ref.namespace ?? ''}/${ref.name}`;

export class FakeCluster extends Fake implements ClusterGateway {
  readonly namespaces = new Map<string, NamespaceInfo>();
  readonly objects = new Map<string, KubeObject>();
  /** Namespaces deleted are Terminating until this many `getNamespace` polls saw them. */
  terminatingPolls = 0;
  #polls = new Map<string, number>();

  async apply(object: KubeObject) {
    this.call(`apply:${object.kind}`);
    if (object.kind === 'Namespace') {
      const existing = this.namespaces.get(object.metadata.name);
      this.namespaces.set(object.metadata.name, {
        name: object.metadata.name,
        uid: existing?.uid ?? randomUUID(),
        phase: existing?.phase ?? 'Active',
        labels: { ...object.metadata.labels },
        annotations: { ...object.metadata.annotations },
      });
      return;
    }
    if (!object.metadata.namespace || !this.namespaces.has(object.metadata.namespace)) {
      throw new UpstreamError('kubernetes', 'apply', 404);
    }
    const key = keyOf({ kind: object.kind, name: object.metadata.name, namespace: object.metadata.namespace });
    this.objects.set(key, structuredClone(object));
    // A forced apply takes the fields back from whoever wrote them.
    this.foreignWrites.delete(key);
  }
  async get(ref: ObjectRef) {
    this.call('get');
    return this.objects.get(keyOf(ref));
  }
  async delete(ref: ObjectRef) {
    this.call(`delete:${ref.kind}`);
    return this.objects.delete(keyOf(ref));
  }
  async getNamespace(name: string) {
    this.call('getNamespace');
    const namespace = this.namespaces.get(name);
    if (namespace?.phase === 'Terminating') this.#tick(name);
    return this.namespaces.get(name);
  }
  async deleteNamespace(name: string) {
    this.call('deleteNamespace');
    const namespace = this.namespaces.get(name);
    if (!namespace) return false;
    namespace.phase = 'Terminating';
    this.#tick(name);
    return true;
  }
  /** The pod delete-collections asked for, in order: namespace and grace period. */
  readonly podDeletes: Array<{ namespace: string; gracePeriodSeconds: number }> = [];
  async deletePods(namespace: string, gracePeriodSeconds: number) {
    this.call('deletePods');
    this.podDeletes.push({ namespace, gracePeriodSeconds });
  }
  async waitForNamespaceGone(name: string) {
    this.call('waitForNamespaceGone');
    while (this.namespaces.get(name)?.phase === 'Terminating') this.#tick(name);
  }
  /** Objects (`Kind/namespace/name`) someone other than the provisioner has written. */
  readonly foreignWrites = new Set<string>();
  /** Kinds the inventory may not list (as a 403 would make them). */
  readonly unlistable = new Set<string>();

  /** Deletes every object of the namespace except the kept kinds; returns how many kinds it emptied. */
  async purgeNamespace(name: string, keep: ReadonlySet<string>) {
    this.call('purgeNamespace');
    const kinds = new Set<string>();
    for (const [key, object] of [...this.objects]) {
      if (object.metadata.namespace === name && !keep.has(object.kind)) {
        kinds.add(object.kind);
        this.objects.delete(key);
      }
    }
    return kinds.size;
  }
  /** Types are named by kind here. */
  async takeInventory(keep: ReadonlySet<string>): Promise<ClusterInventory> {
    this.call('takeInventory');
    const occupied = new Map<string, string[]>();
    const kept = new Map<string, Map<string, KeptObject>>();
    for (const [key, object] of this.objects) {
      const ns = object.metadata.namespace ?? '';
      if (keep.has(object.kind)) {
        if (this.unlistable.has(object.kind)) continue;
        const objects = kept.get(ns) ?? new Map<string, KeptObject>();
        objects.set(`${object.kind}/${object.metadata.name}`, {
          specHash: object.metadata.annotations?.[ANNOTATIONS.specHash],
          foreignWriter: this.foreignWrites.has(key),
        });
        kept.set(ns, objects);
      } else if (!this.unlistable.has(object.kind)) {
        occupied.set(ns, [...new Set([...(occupied.get(ns) ?? []), object.kind])].sort());
      }
    }
    return {
      takenAt: Date.now(),
      namespaces: new Map([...this.namespaces].map(([name, ns]) => [name, structuredClone(ns)])),
      occupied,
      kept,
      unlisted: [...this.unlistable].filter((kind) => !keep.has(kind)).sort(),
    };
  }
  async purgeTypes(name: string, types: readonly string[]) {
    this.call('purgeTypes');
    for (const [key, object] of [...this.objects]) {
      if (object.metadata.namespace === name && types.includes(object.kind)) this.objects.delete(key);
    }
    return types.length;
  }
  /** Kinds served, `Kind` → its discovery entry (tests add theirs); `resource:verb` pairs refused to this client. */
  readonly kinds = new Map<string, KindInfo>([['ConfigMap', { resource: 'configmaps', namespaced: true }], ['ClusterRole', { resource: 'clusterroles', namespaced: false }]]);
  readonly denied = new Set<string>();
  async describeKind(_apiVersion: string, kind: string) {
    return this.kinds.get(kind);
  }
  async mayI(question: AccessQuestion) {
    return !this.denied.has(`${question.resource}:${question.verb}`);
  }
  async labelNamespace(name: string, labels: Readonly<Record<string, string>>) {
    this.call('labelNamespace');
    const namespace = this.namespaces.get(name);
    if (!namespace) throw new UpstreamError('kubernetes', 'label namespace', 404);
    Object.assign(namespace.labels, labels);
  }
  /** Finalizes a terminating namespace after `terminatingPolls` looks. */
  #tick(name: string) {
    const seen = (this.#polls.get(name) ?? 0) + 1;
    this.#polls.set(name, seen);
    if (seen > this.terminatingPolls) {
      this.namespaces.delete(name);
      this.#polls.delete(name);
      for (const key of [...this.objects.keys()]) if (key.split('/')[1] === name) this.objects.delete(key);
    }
  }
}

export { FakeGrafana } from './fake-grafana.js';
