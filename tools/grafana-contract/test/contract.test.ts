// Runs the Grafana contract (./contract.ts) against:
//  1. the stack's contract server (GRAFANA_URL etc. from the integration globalSetup), or an
//     in-process contract server on a free port when those variables are absent;
//  2. a real Grafana (grafana/grafana through testcontainers), registered only when a Docker
//     engine is reachable. Where none is, this file says so in one line instead.
import { createGrafanaContractServer } from '../src/index.js';
import { describeGrafanaContract, type GrafanaTarget } from './contract.js';

const GRAFANA_IMAGE = process.env.GRAFANA_IMAGE || 'grafana/grafana:11.6.0';

const stackUrl = process.env.GRAFANA_URL;
const stackPassword = process.env.GRAFANA_ADMIN_PASSWORD;

if (stackUrl && stackPassword) {
  describeGrafanaContract(`Grafana contract: stack contract server (${stackUrl})`, async () => ({
    url: stackUrl,
    adminUser: process.env.GRAFANA_ADMIN_USER || 'admin',
    adminPassword: stackPassword,
  }));
} else {
  describeGrafanaContract('Grafana contract: in-process contract server', async (): Promise<GrafanaTarget> => {
    const adminPassword = `admin-${Math.random().toString(36).slice(2)}`;
    const server = createGrafanaContractServer({ adminUser: 'admin', adminPassword });
    const url = await server.listen(0, '127.0.0.1');
    return { url, adminUser: 'admin', adminPassword, dispose: () => server.close() };
  });
}

/**
 * True when testcontainers finds a working container runtime (Docker or compatible): its own
 * strategies (DOCKER_HOST, ~/.testcontainers.properties, docker contexts, sockets) and a ping.
 * Without an engine this fails within milliseconds.
 */
async function dockerEngineReachable(): Promise<boolean> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('timed out')), 20_000);
    });
    try {
      await Promise.race([getContainerRuntimeClient(), timeout]);
    } finally {
      clearTimeout(timer);
    }
    return true;
  } catch {
    return false;
  }
}

if (await dockerEngineReachable()) {
  describeGrafanaContract(`Grafana contract: real Grafana (${GRAFANA_IMAGE})`, async (): Promise<GrafanaTarget> => {
    const { GenericContainer, Wait } = await import('testcontainers');
    const adminPassword = `admin-${Math.random().toString(36).slice(2)}`;
    const container = await new GenericContainer(GRAFANA_IMAGE)
      .withEnvironment({
        GF_SECURITY_ADMIN_USER: 'admin',
        GF_SECURITY_ADMIN_PASSWORD: adminPassword,
        // the suite deliberately sends wrong passwords; keep Grafana from locking logins
        GF_SECURITY_DISABLE_BRUTE_FORCE_LOGIN_PROTECTION: 'true',
        GF_ANALYTICS_REPORTING_ENABLED: 'false',
        GF_ANALYTICS_CHECK_FOR_UPDATES: 'false',
        GF_USERS_ALLOW_SIGN_UP: 'false',
      })
      .withExposedPorts(3000)
      .withWaitStrategy(Wait.forHttp('/api/health', 3000).forStatusCode(200))
      .withStartupTimeout(180_000)
      .start();
    return {
      url: `http://${container.getHost()}:${container.getMappedPort(3000)}`,
      adminUser: 'admin',
      adminPassword,
      dispose: async () => {
        await container.stop();
      },
    };
  });
} else {
  console.log(
    `Grafana contract: real Grafana (${GRAFANA_IMAGE}) not run because no Docker engine is reachable; ` +
      'the contract ran against the contract server only.',
  );
}
