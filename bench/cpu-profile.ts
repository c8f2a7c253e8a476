// `npx tsx bench/cpu-profile.ts <file.cpuprofile> [--window <file.json>] [--top N]`
// Where a process's CPU went, from a V8 CPU profile (`node --cpu-prof`; the P2 bench writes the
// worker's with BENCH_WORKER_CPU_PROF=<dir>, and beside it `p2-timed-window.json`, the span of
// its timed creates): self time by component (an npm package, a file of ours, a Node internal
// area, V8's garbage collector, native calls), the functions with the most self time, and what
// called the native socket writes (each one a system call, and on loopback the receiver's
// wake-up too: on a shared 2-core VM they weigh more than most JavaScript).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** The span to count, in the profile's clock (µs of CLOCK_MONOTONIC, as `process.hrtime`). */
export interface Window {
  fromUs: number;
  toUs: number;
}

const NATIVE_WRITES = new Set(['writev', 'writeUtf8String', 'writeLatin1String', 'writeBuffer', 'writeString']);

/** The component a frame belongs to: an npm package, one of our files, a Node internal area, or V8's own. */
export function componentOf(frame: CallFrame): string {
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(frame.url);
  if (pkg) return pkg[1] as string;
  const ours = /\/(packages|apps)\/([^/]+)\/(?:dist|src)\/(.*)\.[jt]s$/.exec(frame.url);
  if (ours) return `${ours[2]}/${ours[3]}`;
  if (frame.url.startsWith('node:')) return frame.url.replace(/^node:(internal\/)?(deps\/)?/, 'node:').replace(/\/[^/]*$/, '');
  return frame.functionName.startsWith('(') ? frame.functionName : '(native)';
}

const label = (frame: CallFrame) => `${frame.functionName || '(anonymous)'} ${frame.url.replace(/^.*node_modules\//, '').replace(/^.*\/(packages|apps)\//, '')}:${frame.lineNumber + 1}`;

export interface Summary {
  totalMs: number;
  byComponent: Map<string, number>;
  byFunction: Map<string, number>;
  /** Native socket writes, by the nearest caller that is not Node's stream plumbing. */
  writesBy: Map<string, number>;
}

/** Self time (ms) of the samples inside `window` (all of them without one), idle time left out. */
export function summarise(profile: Profile, window?: Window): Summary {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const add = (map: Map<string, number>, key: string, ms: number) => map.set(key, (map.get(key) ?? 0) + ms);
  const summary: Summary = { totalMs: 0, byComponent: new Map(), byFunction: new Map(), writesBy: new Map() };
  let time = profile.startTime;
  for (const [index, id] of profile.samples.entries()) {
    time += profile.timeDeltas[index] ?? 0;
    if (window && (time < window.fromUs || time > window.toUs)) continue;
    const node = nodes.get(id) as ProfileNode;
    if (node.callFrame.functionName === '(idle)') continue;
    // A sample stands for the time until the next one.
    const ms = (profile.timeDeltas[index + 1] ?? 0) / 1000;
    summary.totalMs += ms;
    add(summary.byComponent, componentOf(node.callFrame), ms);
    add(summary.byFunction, label(node.callFrame), ms);
    if (!NATIVE_WRITES.has(node.callFrame.functionName)) continue;
    let caller = parent.get(node.id);
    while (caller !== undefined && /^node:|^$/.test(nodes.get(caller)?.callFrame.url ?? '')) caller = parent.get(caller);
    add(summary.writesBy, caller === undefined ? '(event loop)' : componentOf((nodes.get(caller) as ProfileNode).callFrame), ms);
  }
  return summary;
}

function table(map: Map<string, number>, totalMs: number, top: number): string {
  return [...map]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([key, ms]) => `${ms.toFixed(1).padStart(9)} ms ${((100 * ms) / totalMs).toFixed(1).padStart(5)}%  ${key}`)
    .join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { positionals, values } = parseArgs({ allowPositionals: true, options: { window: { type: 'string' }, top: { type: 'string', default: '30' } } });
  const file = positionals[0];
  if (!file) throw new Error('usage: bench/cpu-profile.ts <file.cpuprofile> [--window <file.json>] [--top N]');
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const window = values.window ? (JSON.parse(readFileSync(values.window, 'utf8')) as Window) : undefined;
  const summary = summarise(profile, window);
  const top = Number(values.top);
  console.log(`${summary.totalMs.toFixed(1)} ms of CPU${window ? ` in ${((window.toUs - window.fromUs) / 1e6).toFixed(1)} s` : ''}`);
  console.log(`\nself time by component\n${table(summary.byComponent, summary.totalMs, top)}`);
  console.log(`\nnative socket writes, by caller\n${table(summary.writesBy, summary.totalMs, top)}`);
  console.log(`\nself time by function\n${table(summary.byFunction, summary.totalMs, top)}`);
}
