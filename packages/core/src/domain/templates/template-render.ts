import type { KubeObject, ObjectRef } from '../../ports/cluster-gateway.js';
import { PLACEHOLDER, type PlaygroundTemplate, type TemplateVariables } from './template-files.js';

/**
 * A template rendered for one trainee. Variables are substituted in the strings of the
 * already-parsed object (values and keys), never in YAML text: a value cannot add a field,
 * end a string or change a type, whatever it holds, so no escaping is needed. The namespace
 * is forced to the trainee's, whatever the template says.
 */
export function renderTemplate(template: PlaygroundTemplate, variables: TemplateVariables, labels: Record<string, string>): KubeObject {
  const rendered = substitute(template.body, variables) as KubeObject;
  const metadata = rendered.metadata;
  return {
    ...rendered,
    metadata: { ...metadata, namespace: variables.namespace, labels: { ...metadata.labels, ...labels } },
  };
}

function substitute(value: unknown, variables: TemplateVariables): unknown {
  if (typeof value === 'string') return substituteString(value, variables);
  if (Array.isArray(value)) return value.map((item) => substitute(item, variables));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [substituteString(key, variables), substitute(item, variables)]));
  }
  return value;
}

function substituteString(text: string, variables: TemplateVariables): string {
  return text.replace(PLACEHOLDER, (whole, escaped: string, name: string) => {
    if (escaped === '$') return whole.slice(1);
    if (!Object.hasOwn(variables, name)) throw new Error(`unknown template variable \${${name}}`); // refused when loaded
    return variables[name as keyof TemplateVariables];
  });
}

/**
 * What a namespace records of the template objects applied to it (the value of its
 * `k8s-user-provisioner/templates` annotation): `apiVersion:Kind:name`, comma-separated,
 * sorted. None of the three can hold `:` or `,`.
 */
export function templateRecord(objects: readonly KubeObject[]): string {
  return [...new Set(objects.map((o) => `${o.apiVersion}:${o.kind}:${o.metadata.name}`))].sort().join(',');
}

/**
 * The objects a namespace's record lists that the current templates no longer give: to be
 * deleted. An object is the same one across API versions of its group (a template moved from
 * `v1beta1` to `v1` keeps its object).
 */
export function droppedTemplateObjects(record: string | undefined, current: readonly KubeObject[], namespace: string): ObjectRef[] {
  if (!record) return [];
  const identity = (apiVersion: string, kind: string, name: string) => `${groupOf(apiVersion)}/${kind}/${name}`;
  const wanted = new Set(current.map((o) => identity(o.apiVersion, o.kind, o.metadata.name)));
  const dropped: ObjectRef[] = [];
  for (const entry of record.split(',')) {
    const parts = entry.split(':');
    if (parts.length !== 3 || parts.some((part) => part === '')) continue; // not ours to interpret
    const [apiVersion, kind, name] = parts as [string, string, string];
    if (!wanted.has(identity(apiVersion, kind, name))) dropped.push({ apiVersion, kind, name, namespace });
  }
  return dropped;
}

function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash === -1 ? '' : apiVersion.slice(0, slash);
}
