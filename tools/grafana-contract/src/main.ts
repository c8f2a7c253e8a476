// Runs the Grafana contract server as a process (started by the local stack):
//   GRAFANA_CONTRACT_PORT=3301 GRAFANA_ADMIN_PASSWORD=… node --import tsx tools/grafana-contract/src/main.ts
import { createGrafanaContractServer } from './server.js';

function fail(message: string): never {
  console.error(`grafana-contract: ${message}`);
  process.exit(2);
}

const rawPort = process.env.GRAFANA_CONTRACT_PORT;
if (rawPort === undefined || rawPort.trim() === '') fail('GRAFANA_CONTRACT_PORT is required');
const port = Number(rawPort);
if (!Number.isInteger(port) || port < 0 || port > 65_535) fail(`GRAFANA_CONTRACT_PORT is not a port: ${rawPort}`);

const host = process.env.GRAFANA_CONTRACT_HOST || '127.0.0.1';
const adminUser = process.env.GRAFANA_ADMIN_USER || 'admin';
const adminPassword = process.env.GRAFANA_ADMIN_PASSWORD;
if (!adminPassword) fail('GRAFANA_ADMIN_PASSWORD is required');
const dataFile = process.env.GRAFANA_CONTRACT_DATA_FILE || undefined;

const server = createGrafanaContractServer({ adminUser, adminPassword, ...(dataFile ? { dataFile } : {}) });

let url: string;
try {
  url = await server.listen(port, host);
} catch (err) {
  fail(`cannot listen on ${host}:${port}: ${(err as Error).message}`);
}
console.log(
  `grafana-contract listening on ${url} (admin user ${adminUser}, data ${dataFile ?? 'in memory'}, pid ${process.pid})`,
);

let stopping = false;
function stop(signal: NodeJS.Signals): void {
  if (stopping) return;
  stopping = true;
  console.log(`grafana-contract: ${signal}, stopping`);
  server.close().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error('grafana-contract: error while stopping', err);
      process.exit(1);
    },
  );
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
