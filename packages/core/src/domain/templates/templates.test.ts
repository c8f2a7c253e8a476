import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { playgroundTemplateEnv } from '../../config/profiles-templates-env.js';
import { ANNOTATIONS, LABELS, defaultPlaygroundSettings, namespaceManifest, namespacedManifests, staleObjects, templateObjects, type Trainee } from '../trainee-plan.js';
import { loadTemplates, parseTemplateText, type PlaygroundTemplate } from './template-files.js';
import { droppedTemplateObjects, templateRecord } from './template-render.js';

const ISSUER = 'https://issuer.test/realms/p';
const trainee: Trainee = {
  username: 'ana',
  userId: 'u-1',
  email: 'ana@example.com',
  cohort: 'monday',
  createdAt: '2026-01-01T00:00:00.000Z',
  expiresAt: '2027-01-01T00:00:00.000Z',
};
const LAB = `apiVersion: v1
kind: ConfigMap
metadata:
  name: lab-\${username}
data:
  who: "\${username} <\${email}> in \${namespace} (\${cohort})"
  \${username}.txt: hello
  script: echo $\${HOME}
---
apiVersion: v1
kind: Secret
metadata:
  name: lab-token
stringData:
  token: fixed
`;
const parsed = (text: string, file = 'lab.yaml') => parseTemplateText(text, file);
const settingsWith = (templates: PlaygroundTemplate[]) => ({ ...defaultPlaygroundSettings(ISSUER), templates });
const templates = (text: string) => {
  const { templates: list, issues } = parsed(text);
  expect(issues).toEqual([]);
  return list;
};

describe('template files', () => {
  it('reads each document as one object and says where it starts', () => {
    const list = templates(LAB);
    expect(list.map((t) => [t.source, t.kind])).toEqual([
      ['lab.yaml:1', 'ConfigMap'],
      ['lab.yaml:10', 'Secret'],
    ]);
  });

  it('names the file and line of every problem', () => {
    const { issues } = parsed(
      [
        `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  x: \${user}\n`,
        'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: b\n',
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: kube-system\n',
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  generateName: d-\n',
        'kind: ConfigMap\nmetadata:\n  name: e\n',
        'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: f\n',
        '- just\n- a list\n',
      ].join('---\n'),
      '/etc/templates/lab.yaml',
    );
    expect(issues).toEqual([
      `/etc/templates/lab.yaml:6: unknown variable \${user} (known: username, namespace, cohort, email; write $\${ for a literal \${)`,
      "/etc/templates/lab.yaml:8: Namespace: templates live inside the trainee's namespace, which the provisioner makes",
      `/etc/templates/lab.yaml:13: metadata.namespace "kube-system": a template may only name the trainee's namespace (\${namespace}, or leave it out)`,
      '/etc/templates/lab.yaml:19: metadata.name is missing (server-side apply needs a name)',
      '/etc/templates/lab.yaml:24: apiVersion is missing',
      // Where the parser finds the flow map unclosed: the line after it.
      expect.stringMatching(/^\/etc\/templates\/lab\.yaml:31: not valid YAML: Flow map .* must be .* end with a \}$/),
      '/etc/templates/lab.yaml:32: a template document must be one Kubernetes object (a mapping)',
    ]);
  });

  it('loads a directory in name order, skipping other files and the dot-entries of a mounted ConfigMap', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kup-templates-'));
    writeFileSync(join(dir, 'b.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n');
    writeFileSync(join(dir, 'a.json'), JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' } }));
    writeFileSync(join(dir, 'README.md'), 'not a template');
    mkdirSync(join(dir, '..data'));
    writeFileSync(join(dir, '..data', 'c.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n');
    symlinkSync(join(dir, '..data', 'c.yaml'), join(dir, 'c.yaml')); // how a ConfigMap volume shows its keys
    const loaded = loadTemplates(dir);
    expect('templates' in loaded && loaded.templates.map((t) => t.source)).toEqual([join(dir, 'a.json:1'), join(dir, 'b.yaml:1'), join(dir, 'c.yaml:1')]);
    expect(loadTemplates(join(dir, 'nope'))).toEqual({ issues: [`${join(dir, 'nope')}: cannot be read (ENOENT)`] });
  });

  it('stops the configuration load with file:line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kup-templates-'));
    writeFileSync(join(dir, 'bad.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: other\n');
    const result = playgroundTemplateEnv.PLAYGROUND_TEMPLATES.safeParse(dir);
    expect(result.error?.issues.map((i) => i.message)).toEqual([
      `${join(dir, 'bad.yaml')}:1: metadata.namespace "other": a template may only name the trainee's namespace (\${namespace}, or leave it out)`,
    ]);
  });
});

describe('rendering', () => {
  it(`puts the trainee's values in strings and keys, keeps $\${ literal, and forces the namespace`, () => {
    const [configMap] = templateObjects(settingsWith(templates(LAB)), trainee);
    expect(configMap?.metadata).toMatchObject({ name: 'lab-ana', namespace: 'ana', labels: { [LABELS.template]: 'true', [LABELS.managedBy]: 'k8s-provisioner' } });
    expect(configMap?.data).toEqual({ who: 'ana <ana@example.com> in ana (monday)', 'ana.txt': 'hello', script: `echo \${HOME}` });
  });

  it('cannot be steered by a value: it stays one string, whatever YAML it holds', () => {
    const hostile = { ...trainee, cohort: '"\nmetadata:\n  namespace: kube-system\nx: {' };
    const [configMap] = templateObjects(settingsWith(templates(LAB)), hostile);
    expect(configMap?.metadata.namespace).toBe('ana');
    expect((configMap?.data as Record<string, string> | undefined)?.who).toBe(`ana <ana@example.com> in ana (${hostile.cohort})`);
    expect(Object.keys(configMap?.data as object)).toEqual(['who', 'ana.txt', 'script']);
  });

  it(`writes a template naming \${namespace} into the trainee's namespace only`, () => {
    const [object] = templateObjects(settingsWith(templates(`apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: "\${namespace}"}\n`)), trainee);
    expect(object?.metadata.namespace).toBe('ana');
  });

  it('applies the templates after the fittings, with a spec hash, and records them on the namespace', () => {
    const settings = settingsWith(templates(LAB));
    const objects = namespacedManifests(settings, trainee);
    expect(objects.slice(-2).map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['ConfigMap/lab-ana', 'Secret/lab-token']);
    expect(objects.at(-1)?.metadata.annotations?.[ANNOTATIONS.specHash]).toMatch(/^[0-9a-f]{16}$/);
    expect(namespaceManifest(settings, trainee).metadata.annotations?.[ANNOTATIONS.templates]).toBe('v1:ConfigMap:lab-ana,v1:Secret:lab-token');
    expect(namespaceManifest(defaultPlaygroundSettings(ISSUER), trainee).metadata.annotations).not.toHaveProperty(ANNOTATIONS.templates);
  });
});

describe('dropped templates', () => {
  const configMap = (name: string, apiVersion = 'v1') => ({ apiVersion, kind: 'ConfigMap', metadata: { name } });

  it('names what the namespace recorded and the templates no longer give, in that namespace', () => {
    const record = templateRecord([configMap('a'), configMap('b')]);
    expect(droppedTemplateObjects(record, [configMap('a')], 'ana')).toEqual([{ apiVersion: 'v1', kind: 'ConfigMap', name: 'b', namespace: 'ana' }]);
    expect(droppedTemplateObjects(undefined, [], 'ana')).toEqual([]);
  });

  it('keeps an object whose template only changed API version, and ignores entries it cannot read', () => {
    const record = 'apps/v1beta1:Deployment:web,garbage,::,v1:ConfigMap';
    expect(droppedTemplateObjects(record, [{ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' } }], 'ana')).toEqual([]);
  });

  it('are removed by staleObjects, which never names a fitting of the playground, whatever the record says', () => {
    const settings = settingsWith(templates(LAB));
    const recorded = 'v1:ConfigMap:lab-ana,v1:ConfigMap:old-lab,v1:ResourceQuota:resource-limits,rbac.authorization.k8s.io/v1:RoleBinding:ana';
    expect(staleObjects(settings, 'ana', { ...trainee, recordedTemplates: recorded })).toEqual([
      { apiVersion: 'v1', kind: 'ConfigMap', name: 'old-lab', namespace: 'ana' },
    ]);
  });
});
