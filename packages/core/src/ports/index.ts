export * from './identity-provider.js';
export * from './cluster-gateway.js';
export * from './grafana-gateway.js';
export * from './webhook-transport.js';
