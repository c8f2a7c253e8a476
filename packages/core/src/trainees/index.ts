export * from './kubeconfig.js';
export * from './welcome.js';
