// Cohort tests' shared steps: the API called as a trainer would, the Keycloak group and the
// namespace label read straight from the servers.
import { parse } from 'csv-parse/sync';
import { COHORT_LABEL } from '@kup/core';
import { randomSuffix } from '../helpers/names.js';
import { eventually } from '../helpers/poll.js';
import { getNamespace, keycloakAdmin } from '../helpers/stack.js';
import type { Service } from './service-harness.js';

export const uniqueCohort = (): string => `c-${randomSuffix()}`;

export async function call(svc: Service, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const payload = typeof body === 'string' ? body : body === undefined ? undefined : JSON.stringify(body);
  const contentType = typeof body === 'string' ? 'text/csv' : 'application/json';
  const response = await fetch(`${svc.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${svc.token}`, ...(payload === undefined ? {} : { 'content-type': contentType }), ...headers },
    ...(payload === undefined ? {} : { body: payload }),
    signal: AbortSignal.timeout(150_000),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, text, json: json as Record<string, unknown>, headers: response.headers };
}

/** Polls GET /jobs/:id until the job ends; returns its view. */
export async function finished(svc: Service, jobId: string, timeoutMs = 240_000) {
  return eventually(`job ${jobId} ends`, async () => {
    const { json } = await call(svc, 'GET', `/jobs/${jobId}`);
    return json?.state === 'completed' || json?.state === 'failed' ? (json as { state: string; result?: Record<string, unknown>; error?: unknown; progress: unknown }) : undefined;
  }, timeoutMs, 500);
}

/** The usernames in Keycloak's group `cohort-<name>`, or undefined when there is no such group. */
export async function groupMembers(cohort: string): Promise<string[] | undefined> {
  const found = (await (await keycloakAdmin(`/groups?search=${encodeURIComponent(`cohort-${cohort}`)}&exact=true`)).json()) as { id: string; name: string }[];
  const group = found.find((g) => g.name === `cohort-${cohort}`);
  if (!group) return undefined;
  const members = (await (await keycloakAdmin(`/groups/${group.id}/members?max=1000`)).json()) as { username: string }[];
  return members.map((m) => m.username).sort();
}

export async function cohortLabelOf(namespace: string): Promise<string | undefined> {
  return (await getNamespace(namespace))?.metadata?.labels?.[COHORT_LABEL];
}

export function parseCsv(text: string): Record<string, string>[] {
  return parse(text, { columns: true, skip_empty_lines: true }) as Record<string, string>[];
}
