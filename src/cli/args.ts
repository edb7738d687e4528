// `nokube ray <command> [flags]`: argv into typed CLI settings, or a usage error (exit 2).
import { parseArgs } from 'node:util';
import { DEFAULT_CLIENT_PORT, DEFAULT_DASHBOARD_PORT } from '../config/types';
import {
  COMMANDS,
  DAY_TWO_COMMANDS,
  DEFAULT_CONCURRENCY,
  DEFAULT_CONFIG,
  DEFAULT_TIMEOUT_SEC,
  type DayTwoCommand,
} from '../engine/defaults';
import type { Command } from '../engine/types';

export { DAY_TWO_COMMANDS, type DayTwoCommand };
export type CliCommand = Command | DayTwoCommand;

export const USAGE = `Usage: nokube ray <validate|plan|start|status|stop> [options]
       nokube ray logs --output DIR|FILE.tar.gz [--node NAME]... [--since DURATION] [options]
       nokube ray dashboard [--port 8265] [--client-port 10001] [options]

Deploy, check and stop a Ray cluster on your own machines over SSH, from one ray-config.yaml.
logs: Ray's and nokube's logs of the chosen nodes (default: all) into a directory or one archive.
dashboard: the head's dashboard and Ray Client forwarded to 127.0.0.1 over SSH, the token supplied.

Options:
  --config FILE                    cluster config (default: ${DEFAULT_CONFIG})
  --identity KEYFILE               private key to log in with; repeatable
                                   (default: ~/.ssh/id_ed25519, id_ecdsa, id_rsa, and ssh-agent)
  --known-hosts FILE               known_hosts to verify host keys (default: ~/.ssh/known_hosts)
  --user NAME                      login user for nodes whose config has no users
  --insecure-skip-host-key-check   connect to hosts whose key is not known (not recommended)
  --concurrency N                  nodes worked on at once (default: ${DEFAULT_CONCURRENCY})
  --timeout S                      seconds per node for one command (default: ${DEFAULT_TIMEOUT_SEC})
  --previous FILE                  plan: compare against this config instead of the live cluster
  --offline                        plan: do not contact the nodes
  --json                           print one JSON document (keys: the Action's outputs)
  --node NAME                      logs: only this node; repeatable
  --since DURATION                 logs: only files written in the last DURATION (30s, 10m, 2h, 1d)
  --output PATH                    logs: a new directory, or a file ending in .tar.gz
  --port N                         dashboard: local port of the dashboard (default: 8265)
  --client-port N                  dashboard: local port of Ray Client (default: 10001)
  -h, --help                       this help
  --version                        the version

Environment:
  NOKUBE_DEBUG=1                   log every remote command and SSH detail (secrets masked)
  NOKUBE_SSH_PASSPHRASE            passphrase of the identity files
  \${NAME} in a config credential is read from the environment.

Exit codes: 0 ok, 1 failed or unhealthy, 2 bad usage or invalid config.`;

export interface CliSettings {
  command: CliCommand;
  config: string;
  identities: string[];
  knownHosts?: string;
  user?: string;
  insecureSkipHostKeyCheck: boolean;
  concurrency: number;
  timeoutSec: number;
  previous?: string;
  offline: boolean;
  json: boolean;
  /** logs: --node, repeatable. */
  nodes: string[];
  /** logs: --since in seconds. */
  sinceSec?: number;
  /** logs: --output. */
  output?: string;
  /** dashboard: local ports. */
  port: number;
  clientPort: number;
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
        'insecure-skip-host-key-check': { type: 'boolean' },
        concurrency: { type: 'string' },
        timeout: { type: 'string' },
        previous: { type: 'string' },
        offline: { type: 'boolean' },
        json: { type: 'boolean' },
        node: { type: 'string', multiple: true },
        since: { type: 'string' },
        output: { type: 'string', short: 'o' },
        port: { type: 'string' },
        'client-port': { type: 'string' },
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
  const known: string[] = [...COMMANDS, ...DAY_TWO_COMMANDS];
  if (!known.includes(command)) {
    throw new UsageError(`unknown command "ray ${command}": expected one of ${known.join(', ')}`);
  }
  if (command === 'logs' && !values.output) {
    throw new UsageError('ray logs needs --output PATH (a new directory, or a file ending in .tar.gz)');
  }
  if (rest.length) throw new UsageError(`unexpected argument "${rest[0]}"`);
  return {
    settings: {
      command: command as CliCommand,
      config: values.config ?? DEFAULT_CONFIG,
      identities: values.identity ?? [],
      knownHosts: values['known-hosts'],
      user: values.user,
      insecureSkipHostKeyCheck: !!values['insecure-skip-host-key-check'],
      concurrency: positiveInt(values.concurrency, DEFAULT_CONCURRENCY, '--concurrency'),
      timeoutSec: positiveInt(values.timeout, DEFAULT_TIMEOUT_SEC, '--timeout'),
      previous: values.previous,
      offline: !!values.offline,
      json: !!values.json,
      nodes: values.node ?? [],
      sinceSec: values.since === undefined ? undefined : durationSec(values.since, '--since'),
      output: values.output,
      port: port(values.port, DEFAULT_DASHBOARD_PORT, '--port'),
      clientPort: port(values['client-port'], DEFAULT_CLIENT_PORT, '--client-port'),
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

function port(value: string | undefined, fallback: number, flag: string): number {
  const n = positiveInt(value, fallback, flag);
  if (n > 65535) throw new UsageError(`${flag} must be a port from 1 to 65535, got "${value}"`);
  return n;
}

const UNIT_SEC: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** "90", "30s", "10m", "2h", "1d" → seconds. */
export function durationSec(value: string, flag: string): number {
  const m = /^(\d+)([smhd]?)$/.exec(value.trim());
  if (!m || Number(m[1]) < 1)
    throw new UsageError(`${flag} must be a duration such as 30s, 10m, 2h or 1d, got "${value}"`);
  return Number(m[1]) * UNIT_SEC[m[2] || 's'];
}
