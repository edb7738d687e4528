// `nokube ray <command> [flags]`: argv into typed CLI settings, or a usage error (exit 2).
import { parseArgs } from 'node:util';
import { COMMANDS, DEFAULT_CONCURRENCY, DEFAULT_CONFIG, DEFAULT_TIMEOUT_SEC } from '../engine/defaults';
import type { Command } from '../engine/types';

export const USAGE = `Usage: nokube ray <validate|plan|start|status|stop> [options]

Deploy, check and stop a Ray cluster on your own machines over SSH, from one ray-config.yaml.

Options:
  --config FILE                    cluster config (default: ${DEFAULT_CONFIG})
  --identity KEYFILE               private key to log in with; repeatable
                                   (default: ~/.ssh/id_ed25519, id_ecdsa, id_rsa, and ssh-agent)
  --known-hosts FILE               known_hosts to verify host keys (default: ~/.ssh/known_hosts)
  --user NAME                      login user for nodes whose config has no users
  --proxy-jump [USER@]HOST[:PORT]  reach the nodes through this jump host (as ssh -J; comma-separated
                                   chain of up to 3) unless the config gives proxy_jump
  --ssh-config FILE                OpenSSH client config for Host aliases (default: ~/.ssh/config;
                                   "none" reads none)
  --insecure-skip-host-key-check   connect to hosts whose key is not known (not recommended)
  --concurrency N                  nodes worked on at once (default: ${DEFAULT_CONCURRENCY})
  --timeout S                      seconds per node for one command (default: ${DEFAULT_TIMEOUT_SEC})
  --previous FILE                  plan: compare against this config instead of the live cluster
  --offline                        plan: do not contact the nodes
  --wait-lock S                    start/stop: wait up to S seconds for another deploy's lock
                                   (default: fail at once, naming the holder)
  --json                           print one JSON document (keys: the Action's outputs)
  --timeline                       also show when each node spent its time in which phase
  -h, --help                       this help
  --version                        the version

Environment:
  NOKUBE_DEBUG=1                   log every remote command and SSH detail (secrets masked)
  NOKUBE_SSH_PASSPHRASE            passphrase of the identity files
  \${NAME} in a config credential is read from the environment.

Exit codes: 0 ok, 1 failed or unhealthy, 2 bad usage or invalid config.`;

export interface CliSettings {
  command: Command;
  config: string;
  identities: string[];
  knownHosts?: string;
  user?: string;
  /** --ssh-config as given (undefined = ~/.ssh/config when it exists). */
  sshConfig?: string;
  /** --proxy-jump as given (parsed when the options are built). */
  proxyJump?: string;
  insecureSkipHostKeyCheck: boolean;
  concurrency: number;
  timeoutSec: number;
  previous?: string;
  offline: boolean;
  waitLockSec: number;
  json: boolean;
  timeline: boolean;
}

export class UsageError extends Error {}

export type ParsedArgs = { help: true } | { version: true } | { settings: CliSettings };

export function parseCliArgs(argv: string[]): ParsedArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        config: { type: 'string', short: 'c' },
        identity: { type: 'string', short: 'i', multiple: true },
        'known-hosts': { type: 'string' },
        user: { type: 'string', short: 'u' },
        'proxy-jump': { type: 'string', short: 'J' },
        'ssh-config': { type: 'string', short: 'F' },
        'insecure-skip-host-key-check': { type: 'boolean' },
        concurrency: { type: 'string' },
        timeout: { type: 'string' },
        previous: { type: 'string' },
        offline: { type: 'boolean' },
        'wait-lock': { type: 'string' },
        json: { type: 'boolean' },
        timeline: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean' },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.version) return { version: true };
  if (values.help || positionals.length === 0) return { help: true };
  const [group, command, ...rest] = positionals;
  if (group !== 'ray') throw new UsageError(`unknown command "${group}": expected "nokube ray <command>"`);
  if (!command) return { help: true };
  if (!COMMANDS.includes(command as Command)) {
    throw new UsageError(`unknown command "ray ${command}": expected one of ${COMMANDS.join(', ')}`);
  }
  if (rest.length) throw new UsageError(`unexpected argument "${rest[0]}"`);
  return {
    settings: {
      command: command as Command,
      config: values.config ?? DEFAULT_CONFIG,
      identities: values.identity ?? [],
      knownHosts: values['known-hosts'],
      user: values.user,
      proxyJump: values['proxy-jump'],
      sshConfig: values['ssh-config'],
      insecureSkipHostKeyCheck: !!values['insecure-skip-host-key-check'],
      concurrency: positiveInt(values.concurrency, DEFAULT_CONCURRENCY, '--concurrency'),
      timeoutSec: positiveInt(values.timeout, DEFAULT_TIMEOUT_SEC, '--timeout'),
      previous: values.previous,
      offline: !!values.offline,
      waitLockSec: values['wait-lock'] === undefined ? 0 : positiveInt(values['wait-lock'], 0, '--wait-lock'),
      json: !!values.json,
      timeline: !!values.timeline,
    },
  };
}

function positiveInt(value: string | undefined, fallback: number, flag: string): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < 1) {
    throw new UsageError(`${flag} must be a positive whole number, got "${value}"`);
  }
  return Number(value);
}
