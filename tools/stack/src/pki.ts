import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { stackPath } from './paths.js';
import { log } from './process.js';

export const pki = {
  dir: () => stackPath('pki'),
  caCert: () => stackPath('pki', 'ca.crt'),
  caKey: () => stackPath('pki', 'ca.key'),
  cert: (name: string) => stackPath('pki', `${name}.crt`),
  key: (name: string) => stackPath('pki', `${name}.key`),
  saKey: () => stackPath('pki', 'sa.key'),
  saPub: () => stackPath('pki', 'sa.pub'),
};

const openssl = (args: string[]): void => {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
};

interface LeafSpec {
  name: string;
  subject: string;
  usage: 'server' | 'client';
  sans?: string[];
}

const leaves: LeafSpec[] = [
  { name: 'apiserver', subject: '/CN=kube-apiserver', usage: 'server',
    sans: ['IP:127.0.0.1', 'DNS:localhost', 'DNS:kubernetes', 'DNS:kubernetes.default', 'DNS:kubernetes.default.svc', 'IP:10.0.0.1'] },
  { name: 'keycloak', subject: '/CN=keycloak', usage: 'server', sans: ['IP:127.0.0.1', 'DNS:localhost'] },
  { name: 'admin', subject: '/O=system:masters/CN=kup-stack-admin', usage: 'client' },
];

function issue(spec: LeafSpec): void {
  const csr = stackPath('pki', `${spec.name}.csr`);
  const ext = stackPath('pki', `${spec.name}.ext`);
  openssl(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', pki.key(spec.name), '-out', csr, '-subj', spec.subject]);
  const lines = [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    `extendedKeyUsage=${spec.usage === 'server' ? 'serverAuth' : 'clientAuth'}`,
  ];
  if (spec.sans) lines.push(`subjectAltName=${spec.sans.join(',')}`);
  writeFileSync(ext, lines.join('\n') + '\n');
  openssl(['x509', '-req', '-in', csr, '-CA', pki.caCert(), '-CAkey', pki.caKey(), '-CAcreateserial',
    '-out', pki.cert(spec.name), '-days', '825', '-sha256', '-extfile', ext]);
  rmSync(csr, { force: true });
  rmSync(ext, { force: true });
}

/** The stack CA, serving certificates, the admin client certificate and the service-account key pair. */
export function ensurePki(): void {
  mkdirSync(pki.dir(), { recursive: true, mode: 0o700 });
  if (!existsSync(pki.caCert()) || !existsSync(pki.caKey())) {
    for (const f of readdirSync(pki.dir())) rmSync(stackPath('pki', f), { force: true });
    log('pki: generating the stack CA');
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', pki.caKey(), '-out', pki.caCert(),
      '-days', '3650', '-sha256', '-subj', '/CN=k8s-user-provisioner local stack CA',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  }
  for (const spec of leaves) {
    if (existsSync(pki.cert(spec.name)) && existsSync(pki.key(spec.name))) continue;
    log(`pki: issuing ${spec.name} certificate`);
    issue(spec);
  }
  if (!existsSync(pki.saKey()) || !existsSync(pki.saPub())) {
    log('pki: generating the service-account signing key');
    openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', pki.saKey()]);
    openssl(['pkey', '-in', pki.saKey(), '-pubout', '-out', pki.saPub()]);
  }
}
