import type { FastifyInstance, FastifyRequest } from 'fastify';
import { parse } from 'csv-parse/sync';
import type { RowProblem } from '@kup/core';
import { HttpError } from '../../http/http-error.js';

const COLUMNS = new Set(['email', 'full_name']);

/** Problems the CSV's shape gave (a row with the wrong number of fields), by request, for the handler to report with the rest. */
export const csvProblems = new WeakMap<FastifyRequest, RowProblem[]>();

/**
 * Reads a `text/csv` cohort body (header `email,full_name`, either order, either alone) into
 * the JSON body's shape; the cohort's name and options come from the query. A row with the
 * wrong number of fields is kept in its place (so row numbers stay those of the file) and
 * reported with the other invalid rows. A file that is not CSV at all is a 400 that names
 * the line, never its content.
 */
export function registerCsvBody(app: FastifyInstance): void {
  app.addContentTypeParser('text/csv', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    let records: string[][];
    try {
      records = parse(text, { bom: true, skip_empty_lines: true, relax_column_count: true, trim: true }) as string[][];
    } catch (error) {
      const { code, lines } = error as { code?: string; lines?: number };
      return done(new HttpError(400, `The CSV cannot be read (${code ?? 'CSV_INVALID'}${lines ? ` at line ${lines}` : ''})`, 'INVALID_CSV'), undefined);
    }
    const [header, ...rows] = records;
    const names = (header ?? []).map((name) => name.toLowerCase());
    if (names.length === 0 || names.some((name) => !COLUMNS.has(name)) || new Set(names).size !== names.length) {
      return done(new HttpError(400, 'The CSV\'s first line must be the header `email,full_name` (either column may be left out)', 'INVALID_CSV'), undefined);
    }
    const problems: RowProblem[] = [];
    const trainees = rows.map((fields, index) => {
      if (fields.length !== names.length) problems.push({ row: index + 1, reason: `${fields.length} fields where the header has ${names.length}` });
      const row: Record<string, string> = {};
      names.forEach((name, i) => {
        const value = fields[i];
        if (value) row[name] = value;
      });
      return row;
    });
    csvProblems.set(request, problems);
    const query = (request.query ?? {}) as Record<string, unknown>;
    const option = (key: string) => (typeof query[key] === 'string' ? { [key]: query[key] } : {});
    done(null, { ...option('name'), ...option('expiresAt'), ...option('profile'), trainees });
  });
}
