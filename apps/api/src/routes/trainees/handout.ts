import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { buildWelcome, kubeconfigSettingsFrom, renderKubeconfig, traineeFindQuery, welcomeSettingsFrom, type ClusterAccessConfig } from '@kup/core';
import { HttpError } from '../../http/http-error.js';
import { commonErrors, errorBody } from '../../http/schemas.js';
import type { WorkerQueries } from '../../queries/worker-queries.js';
import { notFoundBody, traineeNotFound, usernameParams } from './schemas.js';
import { welcomeJson } from '../../jobs/welcome-view.js';

export interface HandoutRoutesOptions {
  queries: Pick<WorkerQueries, 'ask'>;
  /** CLUSTER_SERVER_URL, CLUSTER_CA_*, the issuer and login client, GRAFANA_PUBLIC_URL, API_PUBLIC_URL. */
  access: ClusterAccessConfig;
  shutdown: AbortSignal;
}

const kubeconfigYaml = z.string().meta({
  description: 'A kubeconfig (application/yaml): the cluster, the trainee\'s namespace as the default, an OIDC exec credential plugin. No secret in it.',
  examples: ['apiVersion: v1\nkind: Config\nclusters:\n  - name: k8s-example-org\n    cluster:\n      server: https://k8s.example.org:6443\n…'],
});

const notConfigured = () =>
  new HttpError(503, 'no kubeconfig can be given: the cluster\'s public address is not configured (CLUSTER_SERVER_URL)', 'CLUSTER_ACCESS_NOT_CONFIGURED');

/** What a trainer hands out: the kubeconfig and the welcome. Only for a trainee the provisioner manages (asked of the worker). */
export const handoutRoutes: FastifyPluginAsyncZod<HandoutRoutesOptions> = async (app, options) => {
  const { queries, access } = options;
  const managed = async (username: string, raw: { once(event: 'close', listener: () => void): unknown }) => {
    const gone = new AbortController();
    raw.once('close', () => gone.abort());
    const answer = await queries.ask(traineeFindQuery, { username }, AbortSignal.any([gone.signal, options.shutdown]));
    return answer.managed ? answer.trainee : undefined;
  };

  app.get(
    '/trainees/:username/kubeconfig',
    {
      schema: {
        tags: ['trainees'],
        summary: 'The trainee\'s kubeconfig (application/yaml): logs them in to the cluster through OIDC with an exec credential plugin',
        params: usernameParams,
        produces: ['application/yaml'],
        response: { 200: kubeconfigYaml, 404: traineeNotFound, 502: errorBody, ...commonErrors },
      },
    },
    async (request, reply) => {
      const { username } = request.params;
      const trainee = await managed(username, reply.raw);
      if (!trainee) return reply.code(404).send(notFoundBody(username));
      const settings = kubeconfigSettingsFrom(access);
      if (!settings) throw notConfigured();
      reply.header('content-disposition', `attachment; filename="${username}.kubeconfig"`);
      return reply.type('application/yaml').send(renderKubeconfig(settings, { username, namespace: username }));
    },
  );

  app.get(
    '/trainees/:username/welcome',
    {
      schema: {
        tags: ['trainees'],
        summary: 'What a trainer hands a trainee: username, namespace, Grafana, how to install the kubeconfig, the expiry (text/plain or JSON by Accept or `format`); never the password',
        params: usernameParams,
        querystring: z.strictObject({ format: z.enum(['text', 'json']).optional().describe('Overrides Accept: `text` (text/plain) or `json`.') }),
        produces: ['application/json', 'text/plain'],
        response: { 200: z.union([welcomeJson, z.string()]), 404: traineeNotFound, 502: errorBody, ...commonErrors },
      },
    },
    async (request, reply) => {
      const { username } = request.params;
      const trainee = await managed(username, reply.raw);
      if (!trainee) return reply.code(404).send(notFoundBody(username));
      const welcome = buildWelcome(welcomeSettingsFrom(access), { username, namespace: username, expiresAt: trainee.expires, email: trainee.email });
      const format = request.query.format ?? preferred(request.headers.accept);
      reply.header('vary', 'Accept');
      if (format === 'text') return reply.type('text/plain; charset=utf-8').send(welcome.text);
      return welcome.json;
    },
  );
};

/** `text` when Accept names text/plain before (or without) application/json; JSON otherwise. */
function preferred(accept: string | undefined): 'text' | 'json' {
  const text = accept?.indexOf('text/plain') ?? -1;
  const json = accept?.indexOf('application/json') ?? -1;
  return text >= 0 && (json < 0 || text < json) ? 'text' : 'json';
}
