import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { Agent } from 'undici';

/**
 * Node reads `NODE_EXTRA_CA_CERTS` once at start, and both global fetch and undici then
 * trust it. `caFile` is for processes that learn their CA later (e.g. `STACK_CA_FILE`):
 * the public roots plus that file.
 */
export function trustedCa(caFile: string | undefined): string[] | undefined {
  return caFile ? [...rootCertificates, readFileSync(caFile, 'utf8')] : undefined;
}

export interface HttpAgentOptions {
  timeoutMs: number;
  caFile?: string | undefined;
}

/** A keep-alive connection pool with the upstream timeouts applied to every request. */
export function httpAgent({ timeoutMs, caFile }: HttpAgentOptions): Agent {
  const ca = trustedCa(caFile);
  return new Agent({
    // undici 8 negotiates HTTP/2 by ALPN by default; the upstreams are spoken to in HTTP/1.1
    // keep-alive, as with undici 7 (and as the global fetch's v1 bridge forces anyway).
    allowH2: false,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    connect: { timeout: timeoutMs, ...(ca ? { ca } : {}) },
  });
}
