import { describe, expect, it } from 'vitest';
import { rowsOf } from '../../bench/report-rows.js';
import { p1Where } from '../../bench/report-p1.js';
import type { EnqueueFigures } from '../../bench/p1-enqueue.js';
import type { CreateFigures } from '../../bench/p2-creates.js';
import type { ScaleFigures } from '../../bench/p5-scale.js';

const server = (rps: number, p99Ms: number) => ({ rps, p99Ms, non2xx: 0, errors: 0 });
const p1 = (api: [number, number], queue: [number, number]): EnqueueFigures => ({
  api: { ...server(...api), rssPeakMb: 100 },
  bare: server(10_000, 5),
  enqueueOnly: server(...queue),
});
const row = (rows: ReturnType<typeof rowsOf>, id: string) => rows.find((r) => r.id === id);

describe('bench report: issue 19\'s lines', () => {
  it('P1 is met only with the rate at 0.9× the one-add route AND the p99 within 1.5× of its p99; P1+ needs 1.0×', () => {
    expect(row(rowsOf({ p1: p1([950, 14], [1000, 10]) }), 'P1')?.met).toBe(true);
    expect(row(rowsOf({ p1: p1([950, 14], [1000, 10]) }), 'P1+')?.met).toBe(false);
    expect(row(rowsOf({ p1: p1([950, 16], [1000, 10]) }), 'P1')?.met).toBe(false);
    expect(row(rowsOf({ p1: p1([850, 10], [1000, 10]) }), 'P1')?.met).toBe(false);
    expect(row(rowsOf({ p1: p1([1010, 10], [1000, 10]) }), 'P1+')?.met).toBe(true);
    // The bare route is information, not a target; so is the naive one, shown only when measured.
    expect(row(rowsOf({ p1: p1([950, 14], [1000, 10]) }), 'P1i')?.met).toBeUndefined();
    expect(row(rowsOf({ p1: p1([950, 14], [1000, 10]) }), 'P1n')).toBeUndefined();
    expect(row(rowsOf({ p1: { ...p1([950, 14], [1000, 10]), naive: server(500, 28) } }), 'P1n')).toMatchObject({ ratio: '1.9× req/s, 0.5× p99', met: undefined });
    // The floor (the API with its queue taken away) is measured against the one-add route, never a target.
    expect(row(rowsOf({ p1: p1([950, 14], [1000, 10]) }), 'P1f')).toBeUndefined();
    expect(row(rowsOf({ p1: { ...p1([950, 14], [1000, 10]), floor: server(850, 12) } }), 'P1f')).toMatchObject({ value: '850 req/s, p99 12 ms', ratio: '0.85× req/s, 1.2× p99', met: undefined });
  });

  it('P1 names every round it took the median of, with its own ratio', () => {
    const cpu = { serverUs: 300, redisUs: 80, loadUs: 80 };
    const figures: EnqueueFigures = {
      ...p1([950, 14], [1000, 10]),
      api: { ...server(950, 14), cpu, rssPeakMb: 140 },
      bare: { ...server(10_000, 5), cpu: { serverUs: 60, redisUs: 0, loadUs: 70 } },
      enqueueOnly: { ...server(1000, 10), cpu: { serverUs: 180, redisUs: 80, loadUs: 75 } },
      rounds: [
        { api: { ...server(900, 15), rssPeakMb: 140 }, enqueueOnly: server(1200, 9), naive: server(600, 30) },
        { api: { ...server(950, 14), rssPeakMb: 138 }, enqueueOnly: server(1000, 10), naive: server(500, 28), floor: server(800, 12) },
      ],
    };
    const text = p1Where(figures).join('\n');
    expect(text).toContain('Each round, API / one-add route req/s: 900 / 1200 (0.75×), naive 600 (1.5×); 950 / 1000 (0.95×), naive 500 (1.9×), floor 800 (0.8× of the one-add route).');
    expect(text).toContain('180 / 300 = 0.6×');
    expect(text).not.toContain('queue taken away (P1f)');
  });

  it('P1f says whether any add, however cheap, could still reach 0.9×', () => {
    const figures = (floorUs: number): EnqueueFigures => ({
      ...p1([950, 14], [1000, 10]),
      api: { ...server(950, 14), cpu: { serverUs: 300, redisUs: 80, loadUs: 80 }, rssPeakMb: 140 },
      bare: { ...server(10_000, 5), cpu: { serverUs: 60, redisUs: 0, loadUs: 70 } },
      enqueueOnly: { ...server(1000, 10), cpu: { serverUs: 180, redisUs: 80, loadUs: 75 } },
      floor: { ...server(900, 12), cpu: { serverUs: floorUs, redisUs: 0, loadUs: 80 } },
    });
    const over = p1Where(figures(240)).join('\n');
    expect(over).toContain('costs 240 µs of CPU per request, 1.33× the one-add route\'s');
    expect(over).toContain('180 / 240 = 0.75×). Even such an add would leave the API under 0.9×.');
    expect(over).toContain('cost the API 60 µs.');
    // 180 / 0.9 = 200 µs in all: 50 left for the add, against the 120 µs BullMQ's add costs the one-add route.
    expect(p1Where(figures(150)).join('\n')).toContain('0.9× leaves the add and its read-back 50 µs, 0.42× what BullMQ\'s add alone costs the one-add route (120 µs).');
  });

  it('P2 has two targets: the job\'s Keycloak calls at 0.9× bare creates, and worker CPU at most 0.25× Keycloak\'s per bare create', () => {
    const p2 = (jobs: number, workerMs: number): CreateFigures => ({
      creates: 10, concurrency: 4, e2ePerSecond: 5, keycloakPerSecond: 20, failed: 0,
      keycloakJobCallsPerSecond: jobs, cpuMsPerTrainee: { worker: workerMs, keycloak: 60 }, keycloakOnlyCpuMsPerUser: { keycloak: 40 },
    });
    const met = rowsOf({ p2: p2(18, 10) });
    expect([row(met, 'P2a')?.met, row(met, 'P2b')?.met]).toEqual([true, true]);
    const missed = rowsOf({ p2: p2(17, 10.5) });
    expect([row(missed, 'P2a')?.met, row(missed, 'P2b')?.met]).toEqual([false, false]);
  });

  it('P3 shows the shipped RBAC\'s run beside the admin one, against the same baseline', () => {
    const rows = rowsOf({ p3: { namespaces: 50, oldSeconds: 100, oldRequests: 1450, newSeconds: 5, newResult: {}, fastPath: 50, workerRbac: 'admin', also: [{ newSeconds: 20, newResult: {}, fastPath: 0, workerRbac: 'shipped' }] } });
    expect(rows.map((r) => [r.id, r.met])).toEqual([['P3', true], ['P3s', false]]);
  });

  it('P5 compares time per user and worker RSS, and a figure the API cannot give counts as not met', () => {
    const p5: ScaleFigures = {
      seeded: 0, seedSeconds: 0,
      small: { users: 2000, cleanupMs: 2000, traineesMs: 400, missing: { syncMs: 'no dry-run flag' }, workerRssPeakMb: 150 },
      large: { users: 20000, cleanupMs: 25000, traineesMs: 4000, missing: { syncMs: 'no dry-run flag' }, workerRssPeakMb: 210 },
    };
    const rows = rowsOf({ p5 });
    expect(row(rows, 'P5a')).toMatchObject({ met: false, value: 'not measured: no dry-run flag' });
    expect(row(rows, 'P5b')?.met).toBe(false); // 1.25 ms vs 1 ms per user
    expect(row(rows, 'P5c')?.met).toBe(true);
    expect(row(rows, 'P5d')).toMatchObject({ met: false, ratio: '+60 MB' });
  });
});
