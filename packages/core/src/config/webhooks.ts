import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/**
 * Webhook subscriptions and their delivery settings (worker only). Subscriptions come from
 * `WEBHOOKS_FILE` (YAML or JSON, e.g. mounted from a Secret) and/or `WEBHOOKS` (JSON); both
 * are parsed at boot, so a bad entry stops the worker naming the key and the entry's
 * position, never its URL or secret.
 */

export const WEBHOOK_EVENT_TYPES = ['trainee.created', 'trainee.deleted', 'trainee.expiring', 'trainee.expired', 'job.failed', 'fleet.completed'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** Standard Webhooks secrets: `whsec_` + base64 of 24 to 64 random bytes. */
const secret = z
  .string()
  .regex(/^whsec_[A-Za-z0-9+/]+={0,2}$/, 'must be whsec_ followed by base64 (Standard Webhooks format)')
  .refine((value) => {
    const bytes = Buffer.from(value.slice('whsec_'.length), 'base64');
    return bytes.length >= 24 && bytes.length <= 64 && !bytes.every((b) => b === 0);
  }, 'must hold 24 to 64 random bytes once base64-decoded (e.g. `echo whsec_$(openssl rand -base64 32)`)');

const subscription = z.strictObject({
  /** Names the subscription in job data, logs and metrics (its URL may hold a token: it is never shown). */
  id: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9_]{0,62})$/, 'lower-case letters, digits, - and _, up to 63 characters')
    .optional(),
  url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }),
  secret,
  events: z.array(z.enum(WEBHOOK_EVENT_TYPES)).min(1, 'at least one event').transform((events) => [...new Set(events)]),
});
export type WebhookSubscriptionInput = z.infer<typeof subscription>;

export interface WebhookSubscription {
  id: string;
  url: string;
  secret: string;
  events: WebhookEventType[];
}

const list = z.array(subscription);

const jsonList = z.string().transform((raw, ctx) => {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be a JSON list of {id?, url, secret, events}' });
    return z.NEVER;
  }
}).pipe(list);

const fileList = z.string().transform((path, ctx) => {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: `cannot read the file (${(error as NodeJS.ErrnoException).code ?? 'error'})` });
    return z.NEVER;
  }
  try {
    // YAML is a superset of JSON: one parser reads both.
    return (parseYaml(text) as unknown) ?? [];
  } catch (error) {
    const line = (error as { linePos?: Array<{ line: number }> }).linePos?.[0]?.line;
    ctx.addIssue({ code: 'custom', message: `not valid YAML or JSON${line ? ` (line ${line})` : ''}` });
    return z.NEVER;
  }
}).pipe(list);

/** `72h`, `3d`, `90m`, `3600s` or a number of seconds. */
export const durationSeconds = z
  .string()
  .regex(/^\s*\d+\s*[smhd]?\s*$/, 'a duration such as 72h, 3d, 90m or a number of seconds')
  .transform((raw) => {
    const match = /^\s*(\d+)\s*([smhd]?)\s*$/.exec(raw) as RegExpExecArray;
    const unit = { '': 1, s: 1, m: 60, h: 3_600, d: 86_400 }[match[2] as '' | 's' | 'm' | 'h' | 'd'];
    return Number(match[1]) * unit;
  })
  .pipe(z.number().int().min(60, 'at least a minute'));

const int = (fallback: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(fallback);

export const webhookEnv = {
  /** Path of a YAML or JSON list of subscriptions; the parsed list once loaded. */
  WEBHOOKS_FILE: fileList.optional(),
  /** The same list inline, as JSON; added to the file's. */
  WEBHOOKS: jsonList.optional(),
  /** How long before a trainee's expiry `trainee.expiring` is sent. */
  WEBHOOK_EXPIRING_AHEAD: durationSeconds.default(72 * 3_600),
  /** When the worker looks for trainees entering that window (cron, SCHEDULE_TZ). */
  WEBHOOK_EXPIRING_SCAN_SCHEDULE: z.string().regex(/^(\S+\s+){4}\S+$|^(\S+\s+){5}\S+$/, 'not a cron pattern of 5 or 6 fields').default('17 * * * *'),
  /** Tries per delivery (the first included), with exponential backoff from WEBHOOK_BACKOFF_MS. */
  WEBHOOK_ATTEMPTS: int(10, 1, 100),
  WEBHOOK_BACKOFF_MS: int(5_000, 100, 3_600_000),
  /** A delivery not answered within this many milliseconds counts as failed (and is retried). */
  WEBHOOK_TIMEOUT_MS: int(10_000, 100, 120_000),
  WEBHOOK_CONCURRENCY: int(4, 1, 64),
};

type WebhookConfig = {
  WEBHOOKS_FILE?: WebhookSubscriptionInput[] | undefined;
  WEBHOOKS?: WebhookSubscriptionInput[] | undefined;
  ALLOW_INSECURE_UPSTREAMS: boolean;
};

/** A stable id for a subscription given none: its URL's hash (the URL itself may hold a token). */
const defaultId = (url: string) => `sub-${createHash('sha256').update(url).digest('hex').slice(0, 10)}`;

/** Every subscription, file first, each with its id. */
export function webhookSubscriptions(config: Pick<WebhookConfig, 'WEBHOOKS_FILE' | 'WEBHOOKS'>): WebhookSubscription[] {
  return [...(config.WEBHOOKS_FILE ?? []), ...(config.WEBHOOKS ?? [])].map((s) => ({ id: s.id ?? defaultId(s.url), url: s.url, secret: s.secret, events: s.events }));
}

/** Checks across entries: unique ids, and https unless ALLOW_INSECURE_UPSTREAMS. */
export function webhookIssues(config: WebhookConfig): string[] {
  const issues: string[] = [];
  const where = (index: number) => {
    const fromFile = config.WEBHOOKS_FILE?.length ?? 0;
    return index < fromFile ? `WEBHOOKS_FILE.${index}` : `WEBHOOKS.${index - fromFile}`;
  };
  const seen = new Set<string>();
  webhookSubscriptions(config).forEach((s, index) => {
    if (seen.has(s.id)) issues.push(`${where(index)}.id: "${s.id}" is used twice (two subscriptions of one URL need an id each)`);
    seen.add(s.id);
    if (!config.ALLOW_INSECURE_UPSTREAMS && /^http:/i.test(s.url)) {
      issues.push(`${where(index)}.url: http:// sends trainees' data in clear; use https://, or set ALLOW_INSECURE_UPSTREAMS=true (local stacks only)`);
    }
  });
  return issues;
}
