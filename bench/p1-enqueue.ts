// P1 enqueue: POST /provisioner through the full API (auth, validation, logging, Redis
// lock, queue) vs a bare Fastify route answering 202, each in its own plain Node process
// started the same way, driven by autocannon with 50 connections. Every request carries a
// unique email, so every one really enqueues a new job (deduplicated answers would
// measure a cheaper path). Also samples the API's RSS under that load (P4).
import autocannon, { type Result } from 'autocannon';
import { dropPrefix, env, freePort, round, sampleRss, startChild } from './lib.js';

export interface EnqueueFigures {
  api: { rps: number; p99Ms: number; non2xx: number; errors: number; rssPeakMb: number };
  bare: { rps: number; p99Ms: number; non2xx: number; errors: number };
}

function load(url: string, token: string | undefined, seconds: number, tag: string): Promise<Result> {
  let n = 0;
  return autocannon({
    url,
    connections: 50,
    duration: seconds,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    requests: [
      {
        method: 'POST',
        path: '/provisioner',
        setupRequest: (request) => ({ ...request, body: JSON.stringify({ email: `${tag}-${n++}@bench.example` }) }),
      },
    ],
  });
}

const figures = (result: Result) => ({ rps: round(result.requests.average), p99Ms: round(result.latency.p99, 2), non2xx: result.non2xx, errors: result.errors + result.timeouts });

export async function benchEnqueue(seconds: number, tag: string): Promise<EnqueueFigures> {
  const prefix = `bench-p1-${tag}`;
  const token = env('API_TOKENS').split(',')[0] as string;

  const barePort = await freePort();
  const bare = await startChild('bench/bare-server.mjs', { PORT: String(barePort) }, /listening/, 'p1-bare');
  let bareResult: Result;
  try {
    await load(`http://127.0.0.1:${barePort}`, undefined, 2, `${tag}-warm`);
    bareResult = await load(`http://127.0.0.1:${barePort}`, undefined, seconds, tag);
  } finally {
    await bare.stop();
  }

  const apiPort = await freePort();
  // Info-level logs as deployed, to a file (the child's stdout is piped to the bench log).
  const api = await startChild('apps/api/dist/main.js', { PORT: String(apiPort), HOST: '127.0.0.1', QUEUE_PREFIX: prefix, LOG_LEVEL: 'info' }, /listening/i, 'p1-api');
  let apiResult: Result;
  let rss: { peakMb: number };
  try {
    await load(`http://127.0.0.1:${apiPort}`, token, 2, `${tag}-warm`);
    const sampler = sampleRss(api.process.pid as number);
    apiResult = await load(`http://127.0.0.1:${apiPort}`, token, seconds, tag);
    rss = sampler.stop();
  } finally {
    await api.stop();
    await dropPrefix(prefix);
  }
  return { api: { ...figures(apiResult), rssPeakMb: round(rss.peakMb) }, bare: figures(bareResult) };
}
