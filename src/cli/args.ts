// `nokube ray <command> [flags]`: argv into typed CLI settings, or a usage error (exit 2).
import { parseArgs } from 'node:util';
import {
  CLI_ONLY_COMMANDS,
  COMMANDS as SHARED_COMMANDS,
  DEFAULT_CONCURRENCY,
  DEFAULT_CONFIG,
  DEFAULT_TIMEOUT_SEC,
  JOB_ACTIONS,
} from '../engine/defaults';
import type { Command, JobAction } from '../engine/types';

export const COMMANDS: readonly Command[] = [...SHARED_COMMANDS, ...CLI_ONLY_COMMANDS];
export const ENV_FORMATS = ['sh', 'fish', 'json'] as const;

export const USAGE = `Usage: nokube ray <validate|plan|start|status|stop> [options]
       nokube ray job submit [options] [--working-dir DIR] [--runtime-env-json JSON] [--no-wait] -- ENTRYPOINT...
       nokube ray job status|logs|stop JOB_ID [options]     nokube ray job list [options]
       nokube ray exec [options] [--node NAME]... [--all | --workers] -- COMMAND...
       nokube ray env [options] [--format sh|fish|json] [--show-token]

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
  --no-drain                       stop: stop workers at once, without letting running tasks finish
  --working-dir DIR                job submit: uploaded as Ray's working_dir (the entrypoint runs in it)
  --runtime-env-json JSON          job submit: Ray runtime env, e.g. '{"pip": ["requests"]}'
  --no-wait                        job submit: print the job id and return; do not follow the job
  --node NAME                      exec: run on this node; repeatable (default: the head)
  --all | --workers                exec: run on every node | on every worker
  --format sh|fish|json            env: the shell to print exports for (default: sh)
  --show-token                     env: print the token itself instead of the path of a local 0600 file
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
  noDrain: boolean;
  json: boolean;
  timeline: boolean;
  /** job: the action and, for status | logs | stop, the job id. */
  jobAction?: JobAction;
  jobId?: string;
  workingDir?: string;
  runtimeEnvJson?: string;
  noWait: boolean;
  /** The words after `--` (job submit's entrypoint, exec's command), never re-split. */
  rest: string[];
  nodes: string[];
  all: boolean;
  workers: boolean;
  format: (typeof ENV_FORMATS)[number];
  showToken: boolean;
}

export class UsageError extends Error {}

export type ParsedArgs = { help: true } | { version: true } | { settings: CliSettings };

export function parseCliArgs(argv: string[]): ParsedArgs {
  let parsed;
  // the words after the first `--` belong to the entrypoint / command, as they are
  const dashdash = argv.indexOf('--');
  const rest = dashdash >= 0 ? argv.slice(dashdash + 1) : [];
  try {
    parsed = parseArgs({
      args: dashdash >= 0 ? argv.slice(0, dashdash) : argv,
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
        'no-drain': { type: 'boolean' },
        json: { type: 'boolean' },
        timeline: { type: 'boolean' },
        'working-dir': { type: 'string' },
        'runtime-env-json': { type: 'string' },
        'no-wait': { type: 'boolean' },
        node: { type: 'string', multiple: true },
        all: { type: 'boolean' },
        workers: { type: 'boolean' },
        format: { type: 'string' },
        'show-token': { type: 'boolean' },
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
  const [group, command, ...extra] = positionals;
  if (group !== 'ray') throw new UsageError(`unknown command "${group}": expected "nokube ray <command>"`);
  if (!command) return { help: true };
  if (!COMMANDS.includes(command as Command)) {
    throw new UsageError(`unknown command "ray ${command}": expected one of ${COMMANDS.join(', ')}`);
  }
  const words = commandWords(command as Command, rest, values);
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
      noDrain: !!values['no-drain'],
      json: !!values.json,
      timeline: !!values.timeline,
      ...words,
      workingDir: values['working-dir'],
      runtimeEnvJson: values['runtime-env-json'],
      noWait: !!values['no-wait'],
      rest,
      nodes: values.node ?? [],
      all: !!values.all,
      workers: !!values.workers,
      format: envFormat(values.format),
      showToken: !!values['show-token'],
    },
  };

  function commandWords(cmd: Command, after: string[], v: typeof values): { jobAction?: JobAction; jobId?: string } {
    const onlyFor = (flag: string, what: string, allowed: boolean) => {
      if (!allowed) throw new UsageError(`${flag} is only for ${what}`);
    };
    onlyFor('--working-dir', 'job submit', v['working-dir'] === undefined || (cmd === 'job' && extra[0] === 'submit'));
    onlyFor('--runtime-env-json', 'job submit', v['runtime-env-json'] === undefined || extra[0] === 'submit');
    onlyFor('--no-wait', 'job submit', !v['no-wait'] || extra[0] === 'submit');
    onlyFor('--node/--all/--workers', 'exec', (!v.node && !v.all && !v.workers) || cmd === 'exec');
    onlyFor('--format/--show-token', 'env', (v.format === undefined && !v['show-token']) || cmd === 'env');
    if (v.all && (v.workers || v.node)) throw new UsageError('--all already names every node: drop --workers/--node');
    if (cmd === 'job') {
      const [action, jobId, more] = extra;
      if (!action) throw new UsageError(`job needs an action: ${JOB_ACTIONS.join(', ')}`);
      if (!JOB_ACTIONS.includes(action as JobAction)) {
        throw new UsageError(`unknown job action "${action}": expected one of ${JOB_ACTIONS.join(', ')}`);
      }
      if (action === 'submit') {
        if (jobId !== undefined) throw new UsageError(`unexpected argument "${jobId}": put the entrypoint after --`);
        if (!after.length) throw new UsageError('job submit needs an entrypoint after --, e.g. -- python script.py');
      } else if (action === 'list') {
        if (jobId !== undefined) throw new UsageError(`unexpected argument "${jobId}"`);
      } else {
        if (!jobId) throw new UsageError(`job ${action} needs a JOB_ID (see: nokube ray job list)`);
        if (more !== undefined) throw new UsageError(`unexpected argument "${more}"`);
      }
      if (action !== 'submit' && after.length) throw new UsageError(`job ${action} takes nothing after --`);
      return { jobAction: action as JobAction, ...(jobId !== undefined ? { jobId } : {}) };
    }
    if (extra.length)
      throw new UsageError(`unexpected argument "${extra[0]}"${cmd === 'exec' ? ': put the command after --' : ''}`);
    if (cmd === 'exec' && !after.length) throw new UsageError('exec needs a command after --, e.g. -- ray status');
    if (cmd !== 'exec' && after.length) throw new UsageError(`ray ${cmd} takes nothing after --`);
    return {};
  }
}

function envFormat(value: string | undefined): CliSettings['format'] {
  if (value === undefined) return 'sh';
  if (!(ENV_FORMATS as readonly string[]).includes(value)) {
    throw new UsageError(`--format must be one of ${ENV_FORMATS.join(', ')}, got "${value}"`);
  }
  return value as CliSettings['format'];
}

function positiveInt(value: string | undefined, fallback: number, flag: string): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < 1) {
    throw new UsageError(`${flag} must be a positive whole number, got "${value}"`);
  }
  return Number(value);
}
