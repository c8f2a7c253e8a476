// A third P1 reference, information only: `POST /provisioner` with the API's features written
// the plain way, each by the library's default or first-documented use. Against it, P1n shows
// what the API's own work (docs/benchmarks.md, "Where the time goes") saves over a first
// version of the same route. Per request: the token compared in constant time through SHA-256
// digests, the body validated by zod (fastify-type-provider-zod, response schema too), the
// username from the core, Fastify's own request logging (two info lines), then BullMQ's getJob
// before the add (is one pending under the id?), the add under the fixed id with
// auto-pipelining on, and getJob again to tell our job from a rival's. Started like the API.
import { createHash, timingSafeEqual } from 'node:crypto';
import { Queue } from 'bullmq';
import Fastify from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { Redis } from 'ioredis';
import { z } from 'zod';
import { createJobId, DEFAULT_RESERVED_NAMESPACES, deriveUsername, reservedBy } from '@kup/core';

const digest = (value) => createHash('sha256').update(value).digest();
const tokens = (process.env.API_TOKENS ?? '').split(',').filter(Boolean).map(digest);
const connection = new Redis(process.env.REDIS_URL, { maxRetriesPerRequest: null, enableAutoPipelining: true });
const queue = new Queue('provisioning', { connection, prefix: process.env.QUEUE_PREFIX });
const app = Fastify({ logger: { level: 'info' } });
app.setValidatorCompiler(validatorCompiler);
app.setSerializerCompiler(serializerCompiler);

app.addHook('onRequest', async (request, reply) => {
  const given = digest((request.headers.authorization ?? '').replace(/^Bearer /, ''));
  if (!tokens.some((token) => timingSafeEqual(token, given))) return reply.code(401).send({ message: 'unauthorized' });
});

const body = z.strictObject({ email: z.email().optional(), full_name: z.string().min(1).max(255).optional() });
const accepted = z.object({ jobId: z.string(), statusUrl: z.string(), username: z.string() });

app.post('/provisioner', { schema: { body, response: { 202: accepted } } }, async (request, reply) => {
  const username = deriveUsername({ email: request.body.email, fullName: request.body.full_name });
  if (!username) return reply.code(400).send({ message: 'no username' });
  if (reservedBy(username, DEFAULT_RESERVED_NAMESPACES)) return reply.code(409).send({ message: 'reserved' });
  const jobId = createJobId(username);
  const data = { username, email: request.body.email, fullName: request.body.full_name };
  const existing = await queue.getJob(jobId);
  const job = existing ?? (await queue.add('create', data, { jobId, attempts: 5, backoff: { type: 'exponential', delay: 2000 } }));
  const stored = await queue.getJob(jobId);
  const id = stored?.id ?? job.id;
  return reply.code(202).header('location', `/jobs/${id}`).send({ jobId: id, statusUrl: `/jobs/${id}`, username });
});

await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT) });
process.stdout.write('naive server listening\n');
process.once('SIGTERM', () => void app.close().then(() => queue.close()).then(() => connection.quit()).then(() => process.exit(0)));
