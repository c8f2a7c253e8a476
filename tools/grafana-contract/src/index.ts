export {
  createGrafanaContractServer,
  CONTRACT_VERSION,
  type GrafanaContractServer,
  type GrafanaContractServerOptions,
  type OrgRole,
  type StoredUser,
} from './server.js';
