/**
 * Keys whose values are secrets wherever they sit in a log object, down to `DEPTH` levels
 * (`password`, `x.password`, `x.y.password`).
 */
export const SECRET_KEYS: ReadonlySet<string> = new Set([
  'password',
  'secret',
  'token',
  'clientSecret',
  'credentials',
  'authorization',
  'cookie',
  'RESULT_ENCRYPTION_KEY',
  'API_TOKENS',
  'KEYCLOAK_CLIENT_SECRET',
  'GRAFANA_ADMIN_PASSWORD',
]);

export const CENSOR = '[redacted]';
const DEPTH = 3;

/**
 * The log object with every secret key's value replaced by `CENSOR`. The object is returned
 * as it is when it holds no secret, which is nearly always: the scan reads keys and allocates
 * nothing. Only the objects on the way to a secret are copied (prototype and non-enumerable
 * properties kept, so an Error stays an Error for pino's serializer); the caller's objects are
 * never changed.
 *
 * Why not pino's wildcard redact paths (`*.password`): pino runs a wildcard-first path set on
 * every value of every line, strings and numbers included, and parses each path again per
 * value, about 16 KB of garbage per access-log line.
 */
export function censorSecrets<T extends object>(value: T): T {
  return censored(value, DEPTH) as T;
}

function censored(value: object, depth: number): object {
  let copy: Record<string, unknown> | undefined;
  for (const key of Object.keys(value)) {
    const inner = (value as Record<string, unknown>)[key];
    let replacement: unknown = inner;
    if (SECRET_KEYS.has(key)) replacement = inner === undefined ? inner : CENSOR;
    else if (depth > 1 && inner !== null && typeof inner === 'object') replacement = censored(inner, depth - 1);
    if (replacement === inner) continue;
    copy ??= copyOf(value);
    Object.defineProperty(copy, key, { value: replacement, enumerable: true, writable: true, configurable: true });
  }
  return copy ?? value;
}

function copyOf(value: object): Record<string, unknown> {
  if (Array.isArray(value)) return [...value] as unknown as Record<string, unknown>;
  const descriptors = Object.getOwnPropertyDescriptors(value) as Record<string | symbol, PropertyDescriptor>;
  // A frozen object's properties are not configurable: the copy's must be, to be replaced.
  for (const key of Reflect.ownKeys(descriptors)) (descriptors[key] as PropertyDescriptor).configurable = true;
  return Object.create(Object.getPrototypeOf(value), descriptors) as Record<string, unknown>;
}
