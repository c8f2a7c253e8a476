import type { AccessQuestion, ClusterGateway } from '../../ports/cluster-gateway.js';
import { namespacedManifests, templateObjects, type PlaygroundSettings, type Trainee } from '../trainee-plan.js';

/** What the worker does with a template object: server-side apply (create or patch), and delete once dropped. */
export const TEMPLATE_VERBS = ['create', 'patch', 'delete'] as const;

/** A trainee to render the templates for when checking them: every variable set. */
const SAMPLE: Trainee = {
  username: 'template-check',
  userId: '00000000-0000-4000-8000-000000000000',
  email: 'template.check@example.com',
  cohort: 'template-check',
  createdAt: '2026-01-01T00:00:00.000Z',
  expiresAt: '2027-01-01T00:00:00.000Z',
};

const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** The templates cannot be used: every problem, each starting with `<file>:<line>`. */
export class InvalidTemplatesError extends Error {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`PLAYGROUND_TEMPLATES: invalid templates:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'InvalidTemplatesError';
    this.problems = problems;
  }
}

/**
 * The checks that need the cluster, run at worker start: each kind is served and namespaced
 * (discovery), the worker's RBAC lets it create, patch and delete it (SelfSubjectAccessReview,
 * in every namespace as the worker's ClusterRoleBinding grants), no template writes one of the
 * playground's own objects or an object another template writes, and rendered names are
 * valid. Returns the problems; none: the templates can be used.
 */
export async function templateProblems(
  cluster: Pick<ClusterGateway, 'describeKind' | 'mayI'>,
  settings: PlaygroundSettings,
  signal?: AbortSignal,
): Promise<string[]> {
  const problems: string[] = [];
  const own = new Set(namespacedManifests({ ...settings, templates: [] }, SAMPLE).map((o) => `${groupOf(o.apiVersion)}/${o.kind}/${o.metadata.name}`));
  const seen = new Map<string, string>();
  const rendered = templateObjects(settings, SAMPLE);
  // A trainee may have no email (created from a full name) and no cohort: names must hold up then too.
  const bare = templateObjects(settings, { ...SAMPLE, email: undefined, cohort: undefined });
  for (const [index, template] of settings.templates.entries()) {
    const object = rendered[index];
    if (!object) continue;
    const { source } = template;
    const name = object.metadata.name;
    const key = `${groupOf(object.apiVersion)}/${object.kind}/${name}`;
    const bareName = bare[index]?.metadata.name ?? name;
    if (!DNS_SUBDOMAIN.test(name)) problems.push(`${source}: metadata.name renders as "${name}", not a valid object name`);
    else if (!DNS_SUBDOMAIN.test(bareName)) problems.push(`${source}: metadata.name renders as "${bareName}" for a trainee without email or cohort, not a valid object name`);
    if (own.has(key)) problems.push(`${source}: ${object.kind} ${name} is one of the playground's own objects`);
    const other = seen.get(key);
    if (other) problems.push(`${source}: ${object.kind} ${name} is also written by ${other}`);
    seen.set(key, source);

    const info = await cluster.describeKind(object.apiVersion, object.kind, signal);
    if (!info) {
      problems.push(`${source}: the cluster does not serve ${object.apiVersion} ${object.kind}`);
      continue;
    }
    if (!info.namespaced) {
      problems.push(`${source}: ${object.kind} is cluster-scoped; templates hold only namespaced objects`);
      continue;
    }
    const group = groupOf(object.apiVersion);
    const denied: string[] = [];
    for (const verb of TEMPLATE_VERBS) {
      const question: AccessQuestion = { verb, group, resource: info.resource };
      if (!(await cluster.mayI(question, signal))) denied.push(verb);
    }
    if (denied.length > 0) {
      const resource = group ? `${info.resource}.${group}` : info.resource;
      problems.push(`${source}: the worker's RBAC does not allow ${denied.join(', ')} on ${resource} (see docs/playground-templates.md)`);
    }
  }
  return problems;
}

/** Throws `InvalidTemplatesError` when `templateProblems` finds any. */
export async function assertTemplatesUsable(cluster: Pick<ClusterGateway, 'describeKind' | 'mayI'>, settings: PlaygroundSettings, signal?: AbortSignal): Promise<void> {
  if (settings.templates.length === 0) return;
  const problems = await templateProblems(cluster, settings, signal);
  if (problems.length > 0) throw new InvalidTemplatesError(problems);
}

function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash === -1 ? '' : apiVersion.slice(0, slash);
}
