// HTTP plumbing shaped like Grafana's Go server: `{message}` error bodies, Go's JSON binding
// rules for request bodies, base-10 int64 path ids, basic auth.
import type { IncomingMessage, ServerResponse } from 'node:http';

const MAX_BODY_BYTES = 1024 * 1024;

/** Thrown by a handler; answered as `{ message }` with this status. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Parses a path id the way Grafana does (a base-10 int64); throws 400 `<name> is invalid`. */
export function parseId(raw: string, name: string): number {
  if (!/^[+-]?\d+$/.test(raw)) throw new HttpError(400, `${name} is invalid`);
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) throw new HttpError(400, `${name} is invalid`);
  return n;
}

export type JsonObject = Record<string, unknown>;

/** Go's encoding/json matches object keys to struct fields case-insensitively. */
function field(body: JsonObject, name: string): unknown {
  if (name in body) return body[name];
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(body)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

/** A missing or null string field binds to Go's zero value, ''. */
export function stringField(body: JsonObject, name: string): string {
  const v = field(body, name);
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new HttpError(400, 'bad request data');
  return v;
}

/** A missing or null integer field binds to Go's zero value, 0. */
export function intField(body: JsonObject, name: string): number {
  const v = field(body, name);
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new HttpError(400, 'bad request data');
  return v;
}

export async function readJsonBody(req: IncomingMessage): Promise<JsonObject> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(400, 'bad request data');
    chunks.push(buf);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new HttpError(400, 'bad request data');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new HttpError(400, 'bad request data');
  }
  return parsed as JsonObject;
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(payload),
    'cache-control': 'no-store',
  });
  res.end(payload);
}

export function parseBasicAuth(header: string | undefined): { user: string; password: string } | undefined {
  if (!header) return undefined;
  const match = /^basic\s+(\S+)$/i.exec(header.trim());
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
