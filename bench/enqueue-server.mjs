// A second P1 reference: a bare Fastify route that does nothing but one BullMQ add (auto
// id) on the stack's Redis and answers 202, started like the API. Against it, P1 shows what
// the API adds on top of the queue it drives: token check, validation, username, access
// log, deduplication. It is not the target's baseline (that is bench/bare-server.mjs).
import { Queue } from 'bullmq';
import Fastify from 'fastify';
import { Redis } from 'ioredis';

const connection = new Redis(process.env.REDIS_URL, { maxRetriesPerRequest: null });
const queue = new Queue('provisioning', { connection, prefix: process.env.QUEUE_PREFIX });
const app = Fastify({ logger: false });
app.post('/provisioner', async (request, reply) => {
  const job = await queue.add('create', request.body);
  return reply.code(202).send({ jobId: job.id, statusUrl: `/jobs/${job.id}`, username: 'x' });
});
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT) });
process.stdout.write('enqueue server listening\n');
process.once('SIGTERM', () => void app.close().then(() => queue.close()).then(() => connection.quit()).then(() => process.exit(0)));
