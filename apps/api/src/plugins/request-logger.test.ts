import Fastify, { LogController } from 'fastify';
import { createLogger } from '@kup/core';
import { describe, expect, it } from 'vitest';
import { lazyRequestLogger } from './request-logger.js';

function appWithLines() {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ name: 'test', level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  let children = 0;
  const child = logger.child;
  logger.child = function counted(this: typeof logger, bindings, options) {
    children += 1;
    return child.call(this, bindings, options);
  } as typeof logger.child;
  const logController = new LogController({ disableRequestLogging: true });
  const app = Fastify({ loggerInstance: logger, logController, childLoggerFactory: lazyRequestLogger });
  app.get('/quiet', async () => ({ ok: true }));
  app.get('/talks', async (request) => {
    request.log.info({ step: 1 }, 'first');
    request.log.child({ part: 'inner' }).warn('second');
    request.log.debug('third');
    return { ok: true };
  });
  return { app, lines, children: () => children };
}

describe('lazyRequestLogger', () => {
  it('makes no child logger for a request that logs nothing', async () => {
    const { app, lines, children } = appWithLines();
    const before = children();
    expect((await app.inject({ method: 'GET', url: '/quiet' })).statusCode).toBe(200);
    expect(children()).toBe(before);
    expect(lines).toEqual([]);
    await app.close();
  });

  it('logs through a real child bound to the request id once used', async () => {
    const { app, lines } = appWithLines();
    const response = await app.inject({ method: 'GET', url: '/talks' });
    expect(response.statusCode).toBe(200);
    const reqId = lines[0]?.reqId;
    expect(reqId).toEqual(expect.any(String));
    expect(lines).toEqual([
      expect.objectContaining({ level: 30, msg: 'first', step: 1, reqId }),
      expect.objectContaining({ level: 40, msg: 'second', part: 'inner', reqId }),
      expect.objectContaining({ level: 20, msg: 'third', reqId }),
    ]);
    await app.close();
  });
});
