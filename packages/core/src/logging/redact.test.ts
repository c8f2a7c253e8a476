import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';
import { CENSOR, censorSecrets } from './redact.js';

const SECRET = 'hunter2-s3cret';

function capture() {
  const lines: string[] = [];
  const logger = createLogger({ name: 'test', base: null, timestamp: false }, { write: (line: string) => lines.push(line) });
  return { logger, lines };
}

describe('censorSecrets', () => {
  it('returns the same object when it holds no secret', () => {
    const line = { method: 'POST', url: '/provisioner', status: 202, nested: { a: { b: 1 } } };
    expect(censorSecrets(line)).toBe(line);
  });

  it('censors secret keys down to three levels, and leaves the caller objects unchanged', () => {
    const given = { password: SECRET, user: { token: SECRET, name: 'ann' }, job: { data: { password: SECRET, email: 'a@b.c' } } };
    const out = censorSecrets(given);
    expect(out).toEqual({ password: CENSOR, user: { token: CENSOR, name: 'ann' }, job: { data: { password: CENSOR, email: 'a@b.c' } } });
    expect(given.job.data.password).toBe(SECRET);
    expect(given.user.token).toBe(SECRET);
  });

  it('censors inside arrays and frozen objects, and keeps an Error an Error', () => {
    const error = Object.assign(new Error('boom'), { credentials: SECRET });
    const out = censorSecrets({ err: error, users: [{ password: SECRET }], frozen: Object.freeze({ secret: SECRET }) });
    expect(out.err).toBeInstanceOf(Error);
    expect(out.err.message).toBe('boom');
    expect(out.err.credentials).toBe(CENSOR);
    expect(out.users).toEqual([{ password: CENSOR }]);
    expect(out.frozen.secret).toBe(CENSOR);
  });
});

describe('createLogger', () => {
  it('writes no secret, in the line, in child bindings, in errors or in formatted messages', () => {
    const { logger, lines } = capture();
    logger.info({ password: SECRET, req: { headers: { authorization: `Bearer ${SECRET}`, cookie: SECRET } } }, 'one');
    logger.info({ a: { b: { clientSecret: SECRET } } }, 'two');
    logger.child({ token: SECRET, user: { credentials: SECRET } }).info('three');
    logger.error({ err: Object.assign(new Error('four'), { password: SECRET }) }, 'four');
    logger.info('five %o', { password: SECRET });
    expect(lines).toHaveLength(5);
    for (const line of lines) expect(line).not.toContain(SECRET);
    expect(lines.every((line) => line.includes(CENSOR))).toBe(true);
    expect(JSON.parse(lines[3] as string).err.message).toBe('four');
  });
});
