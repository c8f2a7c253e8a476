import type { FastifyInstance } from 'fastify';
import { HttpError } from '../http/http-error.js';

/**
 * JSON bodies only (anything else → 415). An empty JSON body counts as no body: the old
 * CronJobs `POST` with `Content-Type: application/json` and nothing else. Bad JSON → 400
 * with a message that never quotes the body (it could hold personal data).
 */
export function registerJsonBody(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(null, undefined);
    parseJson(request, text, (error, parsed) => {
      if (error) return done(new HttpError(400, 'Body is not valid JSON', 'INVALID_JSON'), undefined);
      done(null, parsed);
    });
  });
}
