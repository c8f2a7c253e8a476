import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';

export const DOCS_PREFIX = '/docs';

/**
 * OpenAPI built from the routes' zod schemas; UI at /docs, JSON at /docs/json. The docs
 * are served without a token: they describe the API and hold no data.
 */
export async function registerDocs(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'k8s-user-provisioner',
        description:
          'Hands out Kubernetes playgrounds: a namespace, a Keycloak identity (OIDC login) and a Grafana account per trainee. ' +
          'Operations are queued jobs: they answer 202 with a job to poll, or, with `Prefer: wait=N`, the final answer.',
        version: '0.1.0',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'An API token (API_TOKENS); a bare `Authorization: <token>` works too.' },
          basic: { type: 'http', scheme: 'basic', description: 'Any user name, an API token as the password (browsers, Bull Board).' },
        },
      },
      security: [{ bearer: [] }, { basic: [] }],
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(swaggerUi, { routePrefix: DOCS_PREFIX });
}
