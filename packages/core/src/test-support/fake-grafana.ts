import type { GrafanaGateway, GrafanaRole, GrafanaUser, NewGrafanaUser } from '../ports/grafana-gateway.js';
import { UpstreamError } from '../errors.js';
import { Fake } from './fake-base.js';

/** An in-memory Grafana for unit tests of the domain services (see fake-ports.ts). */
export class FakeGrafana extends Fake implements GrafanaGateway {
  readonly users = new Map<number, GrafanaUser & { password: string; roles: Map<number, GrafanaRole> }>();
  #nextId = 1;

  add(user: { login: string; email: string; password?: string; isGrafanaAdmin?: boolean }) {
    const full = { id: this.#nextId++, password: 'unknown', roles: new Map<number, GrafanaRole>(), ...user };
    this.users.set(full.id, full);
    return full;
  }

  async findUser(loginOrEmail: string) {
    this.call('findUser');
    const user = [...this.users.values()].find((u) => u.login === loginOrEmail || u.email === loginOrEmail);
    return user && { id: user.id, login: user.login, email: user.email, isGrafanaAdmin: user.isGrafanaAdmin === true };
  }
  async getUser(userId: number) {
    this.call('getUser');
    const user = this.users.get(userId);
    return user && { id: user.id, login: user.login, email: user.email, isGrafanaAdmin: user.isGrafanaAdmin === true };
  }
  async createUser(user: NewGrafanaUser) {
    this.call('createUser');
    if ([...this.users.values()].some((u) => u.login === user.login || u.email === user.email)) {
      throw new UpstreamError('grafana', 'create user', 412);
    }
    return this.add({ login: user.login, email: user.email, password: user.password }).id;
  }
  async setPassword(userId: number, password: string) {
    this.call('setPassword');
    this.#get(userId).password = password;
  }
  async setOrgRole(orgId: number, userId: number, role: GrafanaRole) {
    this.call('setOrgRole');
    this.#get(userId).roles.set(orgId, role);
  }
  async deleteUser(userId: number) {
    this.call('deleteUser');
    return this.users.delete(userId);
  }
  #get(userId: number) {
    const user = this.users.get(userId);
    if (!user) throw new UpstreamError('grafana', 'update user', 404);
    return user;
  }
}
