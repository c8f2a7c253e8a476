// A delete's fakes and context for the delete tests: the three systems in memory, a step
// context whose progress is recorded, and a complete playground as a create leaves it.
import { deletePlayground } from '../provisioning/delete-playground.js';
import { memoryJobState, type DeleteState, type StepContext } from '../provisioning/step-context.js';
import { FakeCluster, FakeGrafana, FakeIdentity } from './fake-ports.js';

const silent = { info: () => undefined, warn: () => undefined, debug: () => undefined };
export const managed = { 'managed-by': 'k8s-provisioner' };

export function build() {
  const fakes = { identity: new FakeIdentity(), cluster: new FakeCluster(), grafana: new FakeGrafana() };
  const sut = (usernames: string[], ctx = context().ctx) =>
    deletePlayground({ ...fakes, namespaceDeleteTimeoutMs: 1_000 }, { usernames }, ctx);
  return { sut, fakes };
}

export function context(state = memoryJobState<DeleteState>()) {
  const steps: string[] = [];
  const ctx: StepContext<DeleteState> = {
    jobKey: 'delete-x-1',
    password: async () => {
      throw new Error('a delete needs no password');
    },
    state,
    progress: async (step) => void steps.push(step),
    log: silent as never,
  };
  return { ctx, steps, state };
}

/** A complete playground, as a create leaves it. */
export function seed(fakes: ReturnType<typeof build>['fakes'], username: string, email: string | undefined) {
  const user = fakes.identity.add({ username, email, provisioned: true });
  fakes.cluster.namespaces.set(username, { name: username, uid: username, phase: 'Active', labels: { ...managed }, annotations: {} });
  const grafanaUser = fakes.grafana.add({ login: username, email: email ?? username });
  return { user, grafanaUser };
}
