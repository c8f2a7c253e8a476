import { describe, expect, it } from 'vitest';
import { memoryJobState } from '../provisioning/step-context.js';
import { markOwned, owns, runSteps, undoSteps, type Step } from './runner.js';

interface Run {
  log: string[];
  stopped?: boolean;
}

const step = (name: string, options: { stop?: boolean; failEnsure?: boolean; failUndo?: boolean; noUndo?: boolean } = {}): Step<Run> => ({
  name,
  async ensure(run) {
    run.log.push(`ensure ${name}`);
    if (options.failEnsure) throw new Error(`ensure ${name} failed`);
    if (options.stop) run.stopped = true;
  },
  ...(options.noUndo
    ? {}
    : {
        async undo(run: Run) {
          run.log.push(`undo ${name}`);
          if (options.failUndo) throw new Error(`undo ${name} failed`);
          return true;
        },
      }),
});

describe('runSteps', () => {
  it('runs the steps in order, reporting each one before it starts', async () => {
    const run: Run = { log: [] };
    const progress: string[] = [];
    const outcome = await runSteps([step('a'), step('b'), step('c')], run, async (name, done, total) => void progress.push(`${name} ${done}/${total}`));
    expect(outcome).toBe('done');
    expect(progress).toEqual(['a 0/3', 'b 1/3', 'c 2/3']);
    expect(run.log).toEqual(['ensure a', 'ensure b', 'ensure c']);
  });

  it('stops when a step says the operation is complete', async () => {
    const run: Run = { log: [] };
    expect(await runSteps([step('a'), step('b', { stop: true }), step('c')], run, async () => undefined)).toBe('stopped');
    expect(run.log).toEqual(['ensure a', 'ensure b']);
  });

  it('a failing step stops the run with its error', async () => {
    const run: Run = { log: [] };
    await expect(runSteps([step('a'), step('b', { failEnsure: true }), step('c')], run, async () => undefined)).rejects.toThrow('ensure b failed');
    expect(run.log).toEqual(['ensure a', 'ensure b']);
  });
});

describe('undoSteps', () => {
  it('undoes in reverse order, skipping steps without an undo', async () => {
    const run: Run = { log: [] };
    expect(await undoSteps([step('a'), step('b', { noUndo: true }), step('c')], run)).toEqual({ a: true, c: true });
    expect(run.log).toEqual(['undo c', 'undo a']);
  });

  it('tries every step after one fails, then throws the first error', async () => {
    const run: Run = { log: [] };
    await expect(undoSteps([step('a', { failUndo: true }), step('b'), step('c', { failUndo: true })], run)).rejects.toThrow('undo c failed');
    expect(run.log).toEqual(['undo c', 'undo b', 'undo a']);
  });
});

describe('ownership marks', () => {
  it('records a part as owned, keeping the others, and can take the mark back', async () => {
    const state = memoryJobState<{ owned?: { keycloak?: boolean; namespace?: boolean } }>();
    await markOwned(state, 'keycloak');
    await markOwned(state, 'namespace');
    await markOwned(state, 'keycloak', false);
    expect(state.value.owned).toEqual({ keycloak: false, namespace: true });
    expect(owns(state.value, 'namespace')).toBe(true);
    expect(owns(state.value, 'keycloak')).toBe(false);
  });
});
