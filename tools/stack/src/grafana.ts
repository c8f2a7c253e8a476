import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { http } from './http.js';
import { repoRoot, stackPath } from './paths.js';
import type { Server } from './server.js';

export const grafanaEntry = join(repoRoot, 'tools', 'grafana-contract', 'src', 'main.ts');

/** The Grafana contract server (tools/grafana-contract), run from the repository root. */
export const grafana: Server = {
  name: 'grafana',
  marker: 'grafana-contract',
  readyTimeoutMs: 60_000,
  ports: (ctx) => [ctx.ports.grafana],
  async prepare(ctx) {
    if (!existsSync(grafanaEntry)) {
      throw new Error(`grafana: ${grafanaEntry} is missing (the Grafana contract server is not in this checkout yet)`);
    }
    mkdirSync(stackPath('grafana'), { recursive: true });
    return {
      name: 'grafana',
      command: process.execPath,
      args: ['--import', 'tsx', 'tools/grafana-contract/src/main.ts'],
      cwd: repoRoot,
      env: {
        GRAFANA_CONTRACT_PORT: String(ctx.ports.grafana),
        GRAFANA_CONTRACT_HOST: '127.0.0.1',
        GRAFANA_ADMIN_USER: ctx.secrets.grafanaAdminUser,
        GRAFANA_ADMIN_PASSWORD: ctx.secrets.grafanaAdminPassword,
        GRAFANA_CONTRACT_DATA_FILE: stackPath('grafana', 'state.json'),
      },
    };
  },
  ready: async (ctx) => (await http(`http://127.0.0.1:${ctx.ports.grafana}/api/health`)).status === 200,
  where: (ctx) => `http://127.0.0.1:${ctx.ports.grafana}`,
};
