import { describe, expect, it } from 'vitest';
import { emailProblem, fullNameProblem, sameTrainee } from './identity.js';
import { DEFAULT_RESERVED_NAMESPACES, parseNamePatterns, reservedBy } from './reserved-names.js';

describe('reserved namespaces', () => {
  it.each(['default', 'kube-system', 'kube-public', 'kube-node-lease', 'argocd', 'cert-manager', 'ingress-nginx', 'monitoring', 'istio-system', 'flux-system', 'gatekeeper-system', 'k8s-user-provisioner'])(
    'reserves %s by default',
    (name) => expect(reservedBy(name, DEFAULT_RESERVED_NAMESPACES)).toBeDefined(),
  );

  it.each(['jean-dupont', 'kube', 'defaults', 'my-kube-lab', 'monitoring-lab', 'system-admin'])('leaves %s free by default', (name) => {
    expect(reservedBy(name, DEFAULT_RESERVED_NAMESPACES)).toBeUndefined();
  });

  it('matches `*` as any run of characters and everything else literally', () => {
    const patterns = parseNamePatterns(' Team-* , ,exact ');
    expect(patterns).toEqual(['team-*', 'exact']);
    expect(reservedBy('team-a', patterns)).toBe('team-*');
    expect(reservedBy('team-', patterns)).toBe('team-*');
    expect(reservedBy('exact', patterns)).toBe('exact');
    expect(reservedBy('exactly', patterns)).toBeUndefined();
    expect(reservedBy('my-team-a', patterns)).toBeUndefined();
  });

  it('reads a list built afresh for each call the same as the list it copies', () => {
    for (const name of ['kube-system', 'team-a', 'argocd', 'alice']) {
      expect(reservedBy(name, [...DEFAULT_RESERVED_NAMESPACES])).toBe(reservedBy(name, DEFAULT_RESERVED_NAMESPACES));
    }
    expect(reservedBy('a,b', ['a,b'])).toBe('a,b');
    expect(reservedBy('a', ['a,b'])).toBeUndefined();
    expect(reservedBy('a', ['a', 'b'])).toBe('a');
  });
});

describe('what Keycloak accepts', () => {
  it.each(['Jean <script>', 'A & B', 'Jean "JD" Dupont', 'x$y', '50%', 'Hi!', '#1', 'why?', '§', 'a;b', 'a*b', '~x', 'a/b', 'a\\b', 'a|b', 'a^b', 'a=b', '[x]', '{x}', '(x)', 'line\nbreak', 'tab\there', 'nul\u0000'])(
    'refuses the full name %j with the reason',
    (name) => expect(fullNameProblem(name)).toMatch(/Keycloak refuses/),
  );

  it.each(['Jean Dupont', 'Émilie Durand-Lévy', "O'Brien", 'José María Aznar', '李小龍', 'Anne-Marie St. John'])('accepts %j', (name) => {
    expect(fullNameProblem(name)).toBeUndefined();
  });

  it('refuses an email whose local part is over 64 characters', () => {
    expect(emailProblem(`${'a'.repeat(64)}@example.org`)).toBeUndefined();
    expect(emailProblem(`${'a'.repeat(65)}@example.org`)).toMatch(/over 64 characters/);
  });
});

describe('sameTrainee', () => {
  it('compares emails case-insensitively and names only when both sides give one', () => {
    expect(sameTrainee({ email: 'A@x.io', fullName: 'Ann Lee' }, { email: 'a@X.io', fullName: 'ann  lee' })).toBe(true);
    expect(sameTrainee({ email: 'a@x.io', fullName: 'Ann Lee' }, { email: 'a@x.io' })).toBe(true);
    expect(sameTrainee({ email: 'a@x.io', fullName: 'Ann Lee' }, { email: 'a@x.io', fullName: 'Bob Lee' })).toBe(false);
    expect(sameTrainee({ email: 'a@x.io' }, { email: 'a@y.io' })).toBe(false);
    expect(sameTrainee({ fullName: 'Jean Dupont' }, { email: 'jean.dupont@x.io' })).toBe(false);
  });
});
