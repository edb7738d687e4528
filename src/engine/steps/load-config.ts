// The one load of a run's config, for every command: the file read and checked, `${NAME}` references
// checked against the environment, ~/.ssh/config's host names applied; for `plan`, the previous config
// (a pull request's base) read the same way, so the two compare alike.
import { loadConfig, parseConfig } from '../../config';
import type { ClusterConfig, Diagnostic } from '../../config/types';
import { useSshConfigHostNames } from './ssh-config-hosts';
import { redisPassword } from '../decisions/gcs-fault-tolerance';
import type { EngineCommand, RunOptions } from '../types';

export interface LoadedConfig {
  /** Undefined when the config has errors (its diagnostics say which). */
  cluster?: ClusterConfig;
  diagnostics: Diagnostic[];
  /** plan: the previous config, when one was given and it is valid. */
  previous?: ClusterConfig;
  /** What the run should say about the load itself (an invalid previous config). */
  warnings: string[];
}

export function loadClusterConfig(options: RunOptions<EngineCommand>): LoadedConfig {
  const parsed = loadConfig(options.configPath, {
    defaultUser: options.ssh.defaultUser,
    env: options.env,
    allowMissingEnv: options.allowMissingEnv || (options.command === 'plan' && options.offline === true),
  });
  if (!parsed.config) return { diagnostics: parsed.diagnostics, warnings: [] };
  // --no-drain (the Action's no-drain input): this run stops and restarts workers as drain_timeout: 0
  // would, and its plan texts say so
  const cluster = options.noDrain
    ? { ...parsed.config, rollout: { ...parsed.config.rollout, drainTimeoutSec: 0 } }
    : parsed.config;
  useSshConfigHostNames(cluster, options.ssh, options.reporter);
  // the Redis password is masked from here on, in every command's output (as written and as read)
  const password = redisPassword(cluster, options.env);
  if (password) options.reporter.secret(password);
  const written = cluster.gcsFaultTolerance?.redisPassword;
  if (written && !written.includes('${')) options.reporter.secret(written);
  const loaded: LoadedConfig = { cluster, diagnostics: parsed.diagnostics, warnings: [] };
  if (options.command === 'plan' && options.previousConfigText !== undefined) {
    const previous = parseConfig(options.previousConfigText, `${options.configPath} (previous)`);
    if (!previous.config) loaded.warnings.push('the previous config is not valid, so every node is planned as new');
    // named as this run's config is, so an alias compares with its HostName unchanged
    else useSshConfigHostNames(previous.config, options.ssh, options.reporter);
    loaded.previous = previous.config;
  }
  return loaded;
}
