import { describe, expect, it } from 'vitest';
import { acceptsProblem, toProblem, PROBLEM_TYPE_PREFIX } from './problem-json.js';

describe('acceptsProblem', () => {
  it('is true only when problem+json is asked for at least as strongly as JSON', () => {
    expect(acceptsProblem('application/problem+json')).toBe(true);
    expect(acceptsProblem('application/problem+json, application/json')).toBe(true);
    expect(acceptsProblem('application/json;q=0.9, application/problem+json')).toBe(true);
    expect(acceptsProblem('Application/Problem+JSON; charset=utf-8')).toBe(true);
    expect(acceptsProblem('application/json, application/problem+json;q=0.5')).toBe(false);
    expect(acceptsProblem('application/problem+json;q=0')).toBe(false);
    expect(acceptsProblem('application/json')).toBe(false);
    expect(acceptsProblem('*/*')).toBe(false);
    expect(acceptsProblem('')).toBe(false);
    expect(acceptsProblem(undefined)).toBe(false);
  });
});

describe('toProblem', () => {
  it('keeps the old members and adds the RFC 9457 ones', () => {
    const problem = toProblem({ message: 'Job not found', code: 'JOB_NOT_FOUND' }, 404, '/jobs/x');
    expect(problem).toEqual({
      type: `${PROBLEM_TYPE_PREFIX}JOB_NOT_FOUND`, title: 'Not Found', status: 404, detail: 'Job not found', instance: '/jobs/x',
      message: 'Job not found', code: 'JOB_NOT_FOUND',
    });
  });

  it('is about:blank with the status phrase when the body has no code, and its own members win', () => {
    const problem = toProblem({ message: 'Internal error', status: 'bogus', type: 'x' }, 500, '/');
    expect(problem).toMatchObject({ type: 'about:blank', title: 'Internal Server Error', status: 500, detail: 'Internal error' });
  });
});
