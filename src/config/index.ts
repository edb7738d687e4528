// The config layer's public API: read ray-config.yaml into a typed ClusterConfig, or say exactly what is wrong.
export type * from './types';
export {
  DEFAULT_CLIENT_PORT,
  DEFAULT_CLUSTER_NAME,
  DEFAULT_DASHBOARD_PORT,
  DEFAULT_GCS_PORT,
  RAY_MIN_OBJECT_STORE_MEMORY,
} from './types';
export { parseConfig, type ParseOptions } from './parse';
export { loadConfig } from './load';
export { errorsFirst, formatDiagnostic, sortDiagnostics } from './diagnostics';
export { ConfigError, findCredentialRefs, resolveCredential, checkReferences } from '../credentials/references';
export { parseSshUrl, DEFAULT_SSH_PORT, type SshUrlResult } from './ssh-url';
export { checkPublicKeyLine, checkHostKey } from './keys';
export { configSchema } from './schema';
