// The P1 baseline: a bare Fastify route answering 202, started exactly like the API
// (`node <file>`, its own process, no TypeScript at run time) — no auth, validation,
// logging or queue.
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.post('/provisioner', async (_request, reply) => reply.code(202).send({ jobId: 'create-x', statusUrl: '/jobs/create-x', username: 'x' }));
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT) });
process.stdout.write('bare server listening\n');
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
