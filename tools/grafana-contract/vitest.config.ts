// Runs only this package's tests (unit + contract suite) without the repo's integration
// globalSetup, e.g. `npx vitest run --config tools/grafana-contract/vitest.config.ts`.
// Without GRAFANA_URL/GRAFANA_ADMIN_PASSWORD in the environment the contract suite starts an
// in-process contract server; with them it targets that server (e.g. `eval "$(npm run -s stack:env)"`).
import { defineConfig } from 'vitest/config';

const conditions = ['source', 'node', 'import', 'default'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    root: import.meta.dirname,
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
  },
});
