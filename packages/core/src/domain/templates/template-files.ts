import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isScalar, LineCounter, parseAllDocuments, visit } from 'yaml';

/** The variables a template may use, as `${username}`; `$${` writes a literal `${`. */
export const TEMPLATE_VARIABLES = ['username', 'namespace', 'cohort', 'email'] as const;
export type TemplateVariable = (typeof TEMPLATE_VARIABLES)[number];
export type TemplateVariables = Record<TemplateVariable, string>;

/** `${name}`, or `$${name}` (escaped: stays `${name}`, unrendered). */
export const PLACEHOLDER = /\$(\$?)\{([^}]*)\}/g;

/** One object of an operator's template file, as written (placeholders not rendered). */
export interface PlaygroundTemplate {
  /** `<file>:<line>` where the object starts: every message about it names this. */
  source: string;
  apiVersion: string;
  kind: string;
  body: Record<string, unknown>;
}

const EXTENSIONS = /\.(ya?ml|json)$/i;

/**
 * The templates of PLAYGROUND_TEMPLATES: a directory (its `.yaml`, `.yml` and `.json` files, in
 * name order; names starting with `.` skipped, such as the `..data` links of a mounted
 * ConfigMap) or one file, each file one or more YAML documents of one object each. What can
 * be checked without a cluster is checked here; each problem names the file and line.
 */
export function loadTemplates(path: string): { templates: PlaygroundTemplate[] } | { issues: string[] } {
  let files: string[];
  try {
    files = statSync(path).isDirectory()
      ? readdirSync(path)
          .filter((name) => !name.startsWith('.') && EXTENSIONS.test(name))
          .sort()
          .map((name) => join(path, name))
          .filter((file) => statSync(file).isFile())
      : [path];
  } catch (error) {
    return { issues: [`${path}: cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`] };
  }
  const templates: PlaygroundTemplate[] = [];
  const issues: string[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      issues.push(`${file}: cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
      continue;
    }
    const parsed = parseTemplateText(text, file);
    templates.push(...parsed.templates);
    issues.push(...parsed.issues);
  }
  return issues.length > 0 ? { issues } : { templates };
}

/** The objects of one file's text; `file` names them in sources and messages. */
export function parseTemplateText(text: string, file: string): { templates: PlaygroundTemplate[]; issues: string[] } {
  const lineCounter = new LineCounter();
  const lineOf = (offset: number) => lineCounter.linePos(offset).line;
  const name = file;
  const templates: PlaygroundTemplate[] = [];
  const issues: string[] = [];
  for (const doc of parseAllDocuments(text, { lineCounter, uniqueKeys: true })) {
    if (doc.errors.length > 0) {
      for (const error of doc.errors) {
        const line = error.linePos?.[0]?.line ?? lineOf(error.pos[0]);
        issues.push(`${name}:${line}: not valid YAML: ${(error.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '')}`);
      }
      continue;
    }
    if (doc.contents === null) continue; // an empty document (`---` at the end)
    const source = `${name}:${lineOf(doc.contents.range[0])}`;
    visit(doc, {
      Scalar(_key, node) {
        if (typeof node.value !== 'string' || !isScalar(node)) return;
        for (const match of node.value.matchAll(PLACEHOLDER)) {
          if (match[1] === '$' || (TEMPLATE_VARIABLES as readonly string[]).includes(match[2] ?? '')) continue;
          const line = node.range ? lineOf(node.range[0]) : lineOf(doc.contents?.range[0] ?? 0);
          issues.push(`${name}:${line}: unknown variable \${${match[2]}} (known: ${TEMPLATE_VARIABLES.join(', ')}; write $\${ for a literal \${)`);
        }
      },
    });
    const problem = objectProblem(doc.toJS() as unknown);
    if (problem) {
      issues.push(`${source}: ${problem}`);
      continue;
    }
    const body = doc.toJS() as Record<string, unknown> & { apiVersion: string; kind: string };
    templates.push({ source, apiVersion: body.apiVersion, kind: body.kind, body });
  }
  return { templates, issues };
}

/** Why this document cannot be a template object, or undefined. */
function objectProblem(value: unknown): string | undefined {
  if (!isRecord(value)) return 'a template document must be one Kubernetes object (a mapping)';
  if (typeof value.apiVersion !== 'string' || value.apiVersion === '') return 'apiVersion is missing';
  if (typeof value.kind !== 'string' || value.kind === '') return 'kind is missing';
  if (value.kind.endsWith('List')) return `${value.kind}: write the items as separate documents`;
  if (value.kind === 'Namespace') return 'Namespace: templates live inside the trainee\'s namespace, which the provisioner makes';
  const metadata = value.metadata;
  if (!isRecord(metadata) || typeof metadata.name !== 'string' || metadata.name === '') return 'metadata.name is missing (server-side apply needs a name)';
  if (metadata.generateName !== undefined) return 'metadata.generateName cannot be used (server-side apply needs a fixed name)';
  if (metadata.namespace !== undefined && metadata.namespace !== `\${namespace}`) {
    return `metadata.namespace "${String(metadata.namespace)}": a template may only name the trainee's namespace (\${namespace}, or leave it out)`;
  }
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
