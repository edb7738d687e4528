// `nokube ray <command> [flags]`: argv into typed CLI settings, or a usage error (exit 2).
// One table of flags gives the parser, `nokube ray --help`, `nokube ray <command> --help` and the
// shell completion scripts (completion.ts), so they never disagree.
import { parseArgs } from 'node:util';
import { closestMatch } from '../config/did-you-mean';
import { DEFAULT_CLIENT_PORT, DEFAULT_DASHBOARD_PORT } from '../config/types';
import {
  CLI_ONLY_COMMANDS,
  COMMANDS as SHARED_COMMANDS,
  DEFAULT_CONCURRENCY,
  DEFAULT_CONFIG,
  DEFAULT_TIMEOUT_SEC,
  JOB_ACTIONS,
  type CliOnlyCommand,
} from '../engine/decisions/defaults';
import type { Command, JobAction } from '../engine/types';
import { FIREWALL_FORMATS, type FirewallFormat } from '../render/firewall';

/** The commands the Action has too, and those only a terminal has. */
export type CliCommand = Command | CliOnlyCommand;

export const COMMANDS: readonly CliCommand[] = [...SHARED_COMMANDS, ...CLI_ONLY_COMMANDS];
export const ENV_FORMATS = ['sh', 'fish', 'json'] as const;
/** `status --watch` without a number: seconds between two looks. */
export const DEFAULT_WATCH_SEC = 2;

/** What each command does, in one line (help and completion). */
export const COMMAND_WORDS: Record<CliCommand, string> = {
  validate: 'check the config file, offline (exit 2 when invalid)',
  plan: 'show what start would change (live with credentials, else against --previous)',
  start: 'bring the cluster to the config: start, restart or stop nodes',
  status: "show every node's state (exit 1 unless healthy)",
  stop: "stop the cluster's Ray on every node",
  job: 'submit | status | logs | stop | list Ray jobs through the head over SSH',
  check:
    'test the network of the running cluster from the inside: an object moved between every pair of nodes (exit 1 when one fails)',
  exec: 'run a command on nodes in their Ray environment (default: the head)',
  env: "print the exports Ray's own tools need (addresses, auth mode, token)",
  logs: "collect Ray's and nokube's logs of the chosen nodes (default: all) into a directory or one archive",
  dashboard: 'forward the dashboard and Ray Client to 127.0.0.1 over SSH, the token supplied',
  firewall: 'print the firewall rules each node needs for Ray (ufw, firewalld, nftables, iptables), offline',
  init: 'write a first config from a list of hosts: connect, trust their keys, read CPUs, memory, GPUs, Python, Ray',
};

/** Extra usage lines of commands that take words of their own. */
const COMMAND_USAGE: Partial<Record<CliCommand, string>> = {
  job: `nokube ray job submit [options] [--working-dir DIR] [--runtime-env-json JSON] [--no-wait] -- ENTRYPOINT...
       nokube ray job status|logs|stop JOB_ID [options]
       nokube ray job list [options]`,
  exec: 'nokube ray exec [options] [--node NAME]... [--all | --workers] -- COMMAND...',
  env: 'nokube ray env [options] [--format sh|fish|json] [--show-token]',
  logs: 'nokube ray logs --output DIR|FILE.tar.gz [--node NAME]... [--since DURATION] [options]',
  dashboard: 'nokube ray dashboard [--port 8265] [--client-port 10001] [options]',
  firewall: `nokube ray firewall [--format ${FIREWALL_FORMATS.join('|')}] [--node NAME]... [--deployer ADDRESS] [options]`,
  init: `nokube ray init --head [USER@]HOST[:PORT] [--workers HOST,HOST,...] [--accept-new] [--pin-host-keys] [--force] [options]
       nokube ray init --hosts-file FILE [options]`,
};

const CONNECTING: readonly CliCommand[] = [
  'plan',
  'start',
  'status',
  'stop',
  'job',
  'exec',
  'env',
  'logs',
  'dashboard',
  'init',
  'check',
];

export interface FlagSpec {
  name: string;
  short?: string;
  /** The value's name in help; no value means a boolean flag. */
  value?: string;
  multiple?: boolean;
  help: string;
  /** The commands it means something to. */
  commands: readonly CliCommand[];
  /** A file path value: completed with file names. */
  file?: boolean;
}

export const FLAGS: readonly FlagSpec[] = [
  {
    name: 'config',
    short: 'c',
    value: 'FILE',
    file: true,
    help: `cluster config (default: ${DEFAULT_CONFIG})`,
    commands: COMMANDS,
  },
  {
    name: 'identity',
    short: 'i',
    value: 'KEYFILE',
    file: true,
    multiple: true,
    help: 'private key to log in with; repeatable (default: ~/.ssh/id_ed25519, id_ecdsa, id_rsa, and ssh-agent)',
    commands: CONNECTING,
  },
  {
    name: 'known-hosts',
    value: 'FILE',
    file: true,
    help: 'known_hosts to verify host keys (default: ~/.ssh/known_hosts)',
    commands: CONNECTING,
  },
  {
    name: 'user',
    short: 'u',
    value: 'NAME',
    help: 'login user for nodes whose config has no users',
    commands: COMMANDS,
  },
  {
    name: 'proxy-jump',
    short: 'J',
    value: '[USER@]HOST[:PORT]',
    help: 'reach the nodes through this jump host (as ssh -J; a comma-separated chain of up to 3) unless the config gives proxy_jump',
    commands: CONNECTING,
  },
  {
    name: 'ssh-config',
    short: 'F',
    value: 'FILE',
    file: true,
    help: 'OpenSSH client config for Host aliases (default: ~/.ssh/config; "none" reads none)',
    commands: CONNECTING,
  },
  {
    name: 'insecure-skip-host-key-check',
    help: 'connect to hosts whose key is not known (not recommended)',
    commands: CONNECTING.filter((c) => c !== 'init'),
  },
  {
    name: 'concurrency',
    value: 'N',
    help: `nodes worked on at once (default: ${DEFAULT_CONCURRENCY})`,
    commands: CONNECTING,
  },
  {
    name: 'timeout',
    value: 'S',
    help: `seconds per node for one command (default: ${DEFAULT_TIMEOUT_SEC})`,
    commands: CONNECTING,
  },
  {
    name: 'previous',
    value: 'FILE',
    file: true,
    help: 'compare against this config instead of the live cluster',
    commands: ['plan'],
  },
  { name: 'offline', help: 'do not contact the nodes', commands: ['plan'] },
  {
    name: 'wait-lock',
    value: 'S',
    help: "wait up to S seconds for another deploy's lock (default: fail at once, naming the holder)",
    commands: ['start', 'stop'],
  },
  {
    name: 'no-drain',
    help: 'stop or restart workers at once, without letting running tasks finish (as drain_timeout: 0)',
    commands: ['start', 'stop'],
  },
  {
    name: 'working-dir',
    value: 'DIR',
    file: true,
    help: "job submit: uploaded as Ray's working_dir (the entrypoint runs in it)",
    commands: ['job'],
  },
  {
    name: 'runtime-env-json',
    value: 'JSON',
    help: 'job submit: Ray runtime env, e.g. \'{"pip": ["requests"]}\'',
    commands: ['job'],
  },
  { name: 'no-wait', help: 'job submit: print the job id and return; do not follow the job', commands: ['job'] },
  {
    name: 'node',
    value: 'NAME',
    multiple: true,
    help: 'exec: run on this node (default: the head); logs, firewall: only this node (default: all); repeatable',
    commands: ['exec', 'logs', 'firewall'],
  },
  { name: 'all', help: 'exec: run on every node', commands: ['exec'] },
  {
    name: 'deep',
    help: "status: also run a Ray job that imports ray_spec.install's packages on every node",
    commands: ['status'],
  },
  { name: 'workers', help: 'exec: run on every worker', commands: ['exec'] },
  {
    name: 'format',
    value: 'FORMAT',
    help: `env: the shell to print exports for, ${ENV_FORMATS.join('|')} (default: sh); firewall: ${FIREWALL_FORMATS.join('|')} (default: table)`,
    commands: ['env', 'firewall'],
  },
  {
    name: 'deployer',
    value: 'ADDRESS[/PREFIX]',
    help: 'firewall: where the deployer and users connect from (SSH, dashboard, Ray Client); default: anywhere',
    commands: ['firewall'],
  },
  {
    name: 'show-token',
    help: 'env: print the token itself instead of the path of a local 0600 file',
    commands: ['env'],
  },
  {
    name: 'allow-missing-env',
    help: 'an unset ${NAME} in a credential is a warning, not an error (always so for plan --offline)',
    commands: COMMANDS,
  },
  {
    name: 'output',
    short: 'o',
    value: 'PATH',
    file: true,
    help: 'logs: a new directory, or a file ending in .tar.gz',
    commands: ['logs'],
  },
  {
    name: 'since',
    value: 'DURATION',
    help: 'logs: only files written in the last DURATION (30s, 10m, 2h, 1d)',
    commands: ['logs'],
  },
  {
    name: 'port',
    value: 'N',
    help: `dashboard: local port of the dashboard (default: ${DEFAULT_DASHBOARD_PORT})`,
    commands: ['dashboard'],
  },
  {
    name: 'client-port',
    value: 'N',
    help: `dashboard: local port of Ray Client (default: ${DEFAULT_CLIENT_PORT})`,
    commands: ['dashboard'],
  },
  {
    name: 'head',
    value: '[USER@]HOST[:PORT]',
    help: 'init: the head node (an ~/.ssh/config Host too)',
    commands: ['init'],
  },
  {
    name: 'workers',
    value: 'HOST,HOST,...',
    multiple: true,
    help: 'init: the worker nodes, comma-separated or repeated',
    commands: ['init'],
  },
  {
    name: 'hosts-file',
    value: 'FILE',
    file: true,
    help: 'init: one host a line, the first the head unless a line says "HOST head"; # comments',
    commands: ['init'],
  },
  {
    name: 'accept-new',
    help: "init: trust host keys not seen before without asking (as OpenSSH's accept-new; changed keys are refused)",
    commands: ['init'],
  },
  {
    name: 'known-hosts-out',
    value: 'FILE',
    file: true,
    help: "init: where to record the hosts' keys (default: known_hosts beside the config; lines added, none removed)",
    commands: ['init'],
  },
  { name: 'pin-host-keys', help: "init: pin each node's key in the config (host_key) instead", commands: ['init'] },
  { name: 'force', help: 'init: replace an existing config file', commands: ['init'] },
  {
    name: 'watch',
    short: 'w',
    value: '[SECONDS]',
    help: `status: refresh every SECONDS (default: ${DEFAULT_WATCH_SEC}) over the same connections until Ctrl-C; a line per change when not a terminal`,
    commands: ['status'],
  },
  { name: 'json', help: "print one JSON document (keys: the Action's outputs)", commands: COMMANDS },
  {
    name: 'timeline',
    help: 'also show when each node spent its time in which phase',
    commands: ['plan', 'start', 'status', 'stop'],
  },
  { name: 'help', short: 'h', help: 'this help', commands: COMMANDS },
];

const GLOBAL_FLAGS: readonly FlagSpec[] = [{ name: 'version', help: 'the version', commands: [] }];

function flagLines(flags: readonly FlagSpec[]): string[] {
  const left = (f: FlagSpec) => `${f.short ? `-${f.short}, ` : '    '}--${f.name}${f.value ? ` ${f.value}` : ''}`;
  const width = Math.max(...flags.map((f) => left(f).length)) + 3;
  return flags.map((f) => `  ${left(f).padEnd(width)}${f.help}`);
}

const FOOTER = `Environment:
  NOKUBE_DEBUG=1      log every remote command and SSH detail (secrets masked)
  NOKUBE_SSH_PASSPHRASE  passphrase of the identity files
  \${NAME} in a config credential is read from the environment.

Exit codes: 0 ok, 1 failed or unhealthy, 2 bad usage or invalid config.`;

export const USAGE = `Usage: nokube ray <${COMMANDS.join('|')}> [options]
${Object.values(COMMAND_USAGE)
  .map((u) => `       ${u}`)
  .join('\n')}
       nokube completion <bash|zsh>

Deploy, check and stop a Ray cluster on your own machines over SSH, from one ray-config.yaml.

Commands:
${COMMANDS.map((c) => `  ${c.padEnd(10)}${COMMAND_WORDS[c]}`).join('\n')}

Options (nokube ray <command> --help shows those of one command):
${flagLines([...FLAGS, ...GLOBAL_FLAGS]).join('\n')}

${FOOTER}`;

/** `nokube ray <command> --help`: that command's flags only. */
export function commandHelp(command: CliCommand): string {
  return `Usage: ${COMMAND_USAGE[command] ?? `nokube ray ${command} [options]`}

${COMMAND_WORDS[command]}.

Options:
${flagLines(FLAGS.filter((f) => f.commands.includes(command))).join('\n')}

${FOOTER}`;
}

export interface CliSettings {
  command: CliCommand;
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
  allowMissingEnv: boolean;
  waitLockSec: number;
  json: boolean;
  timeline: boolean;
  /** job: the action and, for status | logs | stop, the job id. */
  jobAction?: JobAction;
  jobId?: string;
  workingDir?: string;
  runtimeEnvJson?: string;
  noWait: boolean;
  /** status --deep */
  deep: boolean;
  /** The words after `--` (job submit's entrypoint, exec's command), never re-split. */
  rest: string[];
  nodes: string[];
  all: boolean;
  workers: boolean;
  format: (typeof ENV_FORMATS)[number];
  /** firewall: --format and --deployer. */
  firewallFormat: FirewallFormat;
  deployer?: string;
  showToken: boolean;
  /** logs: --since in seconds. */
  sinceSec?: number;
  /** logs: --output. */
  output?: string;
  /** dashboard: local ports. */
  port: number;
  clientPort: number;
  /** init: the hosts (--head, --workers or --hosts-file) and what to do with their keys and the file. */
  head?: string;
  workerHosts: string[];
  hostsFile?: string;
  acceptNew: boolean;
  knownHostsOut?: string;
  pinHostKeys: boolean;
  force: boolean;
  /** status --watch: seconds between two looks (undefined: look once). */
  watchSec?: number;
}

export class UsageError extends Error {}

export type ParsedArgs =
  { help: string } | { version: true } | { completion: 'bash' | 'zsh' } | { settings: CliSettings };

/** An unknown `--flag` or `-x`, with the closest known one. */
function checkFlags(argv: string[]): void {
  const known = [...FLAGS, ...GLOBAL_FLAGS];
  for (const token of argv) {
    if (token === '--') break;
    if (token.startsWith('--')) {
      const name = token.slice(2).split('=')[0]!;
      if (known.some((f) => f.name === name)) continue;
      const match = closestMatch(
        name,
        known.map((f) => f.name),
      );
      throw new UsageError(`unknown flag --${name}${match ? ` (did you mean --${match}?)` : ''}`);
    }
    if (/^-[A-Za-z]$/.test(token) && !known.some((f) => f.short === token[1])) {
      throw new UsageError(`unknown flag ${token}`);
    }
  }
}

/**
 * The flag table as `command` reads it: a name two commands use differently (`--workers`: exec's
 * switch, init's hosts) is the entry of that command, else the first.
 */
function flagsOf(command: string | undefined): FlagSpec[] {
  const all = [...FLAGS, ...GLOBAL_FLAGS];
  return all.filter((f) => {
    const twins = all.filter((g) => g.name === f.name);
    if (twins.length === 1) return true;
    const own = twins.find((g) => g.commands.includes(command as CliCommand)) ?? twins[0];
    return own === f;
  });
}

export function parseCliArgs(argv: string[]): ParsedArgs {
  if (argv[0] === 'completion') {
    const shell = argv[1];
    if (shell === 'bash' || shell === 'zsh') return { completion: shell };
    throw new UsageError(
      shell ? `no completion for "${shell}": use bash or zsh` : 'missing shell: nokube completion bash (or zsh)',
    );
  }
  // the words after the first `--` belong to the entrypoint / command, as they are
  const dashdash = argv.indexOf('--');
  const after = dashdash >= 0 ? argv.slice(dashdash + 1) : [];
  const before = dashdash >= 0 ? argv.slice(0, dashdash) : argv;
  checkFlags(before);
  let parsed;
  try {
    parsed = parseArgs({
      args: watchValue(before),
      allowPositionals: true,
      strict: true,
      options: Object.fromEntries(
        flagsOf(before[before.indexOf('ray') + 1]).map((f) => [
          f.name,
          {
            type: f.value ? ('string' as const) : ('boolean' as const),
            ...(f.short ? { short: f.short } : {}),
            ...(f.multiple ? { multiple: true } : {}),
          },
        ]),
      ),
    });
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/\. To specify a positional argument.*$/s, ''));
  }
  const values = parsed.values as Record<string, string | string[] | boolean | undefined>;
  const { positionals } = parsed;
  if (values.version) return { version: true };
  const [group, command, ...extra] = positionals;
  if (group === undefined) {
    if (values.help) return { help: USAGE };
    throw new UsageError('missing command: nokube ray <command>');
  }
  if (group !== 'ray') {
    const match = closestMatch(group, ['ray', 'completion']);
    const asCommand = closestMatch(group, COMMANDS);
    const hint = match
      ? ` (did you mean "nokube ${match}"?)`
      : asCommand
        ? ` (did you mean "nokube ray ${asCommand}"?)`
        : '';
    throw new UsageError(`unknown command "${group}": expected "nokube ray <command>"${hint}`);
  }
  if (!command) {
    if (values.help) return { help: USAGE };
    throw new UsageError(`missing command: nokube ray <${COMMANDS.join('|')}>`);
  }
  if (!COMMANDS.includes(command as CliCommand)) {
    const match = closestMatch(command, COMMANDS);
    throw new UsageError(
      `unknown command "ray ${command}"${match ? `: did you mean "nokube ray ${match}"?` : `: expected one of ${COMMANDS.join(', ')}`}`,
    );
  }
  if (values.help) return { help: commandHelp(command as CliCommand) };
  const text = (name: string) => values[name] as string | undefined;
  const words = commandWords(command as CliCommand, extra, after, values);
  if (command === 'logs' && !values.output) {
    throw new UsageError('ray logs needs --output PATH (a new directory, or a file ending in .tar.gz)');
  }
  return {
    settings: {
      command: command as CliCommand,
      config: text('config') ?? DEFAULT_CONFIG,
      identities: (values.identity as string[] | undefined) ?? [],
      knownHosts: text('known-hosts'),
      user: text('user'),
      proxyJump: text('proxy-jump'),
      sshConfig: text('ssh-config'),
      insecureSkipHostKeyCheck: !!values['insecure-skip-host-key-check'],
      concurrency: positiveInt(text('concurrency'), DEFAULT_CONCURRENCY, '--concurrency'),
      timeoutSec: positiveInt(text('timeout'), DEFAULT_TIMEOUT_SEC, '--timeout'),
      previous: text('previous'),
      offline: !!values.offline,
      noDrain: !!values['no-drain'],
      allowMissingEnv: !!values['allow-missing-env'],
      waitLockSec: text('wait-lock') === undefined ? 0 : positiveInt(text('wait-lock'), 0, '--wait-lock'),
      json: !!values.json,
      timeline: !!values.timeline,
      ...words,
      workingDir: text('working-dir'),
      runtimeEnvJson: text('runtime-env-json'),
      noWait: !!values['no-wait'],
      deep: !!values.deep,
      rest: after,
      nodes: (values.node as string[] | undefined) ?? [],
      all: !!values.all,
      workers: command === 'exec' && !!values.workers,
      format: command === 'env' ? envFormat(text('format')) : 'sh',
      firewallFormat: command === 'firewall' ? firewallFormat(text('format')) : 'table',
      deployer: text('deployer'),
      showToken: !!values['show-token'],
      sinceSec: text('since') === undefined ? undefined : durationSec(text('since')!, '--since'),
      output: text('output'),
      port: port(text('port'), DEFAULT_DASHBOARD_PORT, '--port'),
      clientPort: port(text('client-port'), DEFAULT_CLIENT_PORT, '--client-port'),
      head: text('head'),
      workerHosts: command === 'init' ? ((values.workers as string[] | undefined) ?? []) : [],
      hostsFile: text('hosts-file'),
      acceptNew: !!values['accept-new'],
      knownHostsOut: text('known-hosts-out'),
      pinHostKeys: !!values['pin-host-keys'],
      force: !!values.force,
      ...(text('watch') !== undefined ? { watchSec: watchSeconds(text('watch')!) } : {}),
    },
  };
}

/** `--watch` takes an optional number (as `watch -n`): alone, it gets the default. */
function watchValue(args: string[]): string[] {
  return args.flatMap((a, i) =>
    (a === '--watch' || a === '-w') && !/^\d+(\.\d+)?$/.test(args[i + 1] ?? '')
      ? [`--watch=${DEFAULT_WATCH_SEC}`]
      : [a],
  );
}

function watchSeconds(value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || n < 0.5) {
    throw new UsageError(`--watch takes seconds between refreshes, at least 0.5, got "${value}"`);
  }
  return n;
}

type Values = Record<string, string | string[] | boolean | undefined>;

/** The words after the command (job's action and id) and after `--`, checked against the command. */
function commandWords(
  cmd: CliCommand,
  extra: string[],
  after: string[],
  v: Values,
): { jobAction?: JobAction; jobId?: string } {
  const onlyFor = (flag: string, what: string, allowed: boolean) => {
    if (!allowed) throw new UsageError(`${flag} is only for ${what}`);
  };
  const submit = cmd === 'job' && extra[0] === 'submit';
  onlyFor('--working-dir', 'job submit', v['working-dir'] === undefined || submit);
  onlyFor('--runtime-env-json', 'job submit', v['runtime-env-json'] === undefined || submit);
  onlyFor('--no-wait', 'job submit', !v['no-wait'] || submit);
  onlyFor('--node', 'exec, logs and firewall', !v.node || cmd === 'exec' || cmd === 'logs' || cmd === 'firewall');
  onlyFor('--all/--workers', 'exec', (!v.all && !v.workers) || cmd === 'exec' || (cmd === 'init' && !v.all));
  onlyFor('--format', 'env and firewall', v.format === undefined || cmd === 'env' || cmd === 'firewall');
  onlyFor('--show-token', 'env', !v['show-token'] || cmd === 'env');
  onlyFor('--deployer', 'firewall', v.deployer === undefined || cmd === 'firewall');
  for (const flag of ['head', 'hosts-file', 'accept-new', 'known-hosts-out', 'pin-host-keys', 'force']) {
    onlyFor(`--${flag}`, 'init', v[flag] === undefined || v[flag] === false || cmd === 'init');
  }
  if (cmd === 'init') {
    if (v['insecure-skip-host-key-check']) {
      throw new UsageError(
        'init asks about each new host key: use --accept-new instead of --insecure-skip-host-key-check',
      );
    }
    if (v['hosts-file'] !== undefined && (v.head !== undefined || v.workers !== undefined)) {
      throw new UsageError('give the hosts either as --head/--workers or as --hosts-file, not both');
    }
    if (v['hosts-file'] === undefined && v.head === undefined) {
      throw new UsageError(
        v.workers === undefined
          ? 'init needs the hosts: --head HOST [--workers HOST,HOST,...] or --hosts-file FILE'
          : 'init needs the head too: --head HOST (the workers alone make no cluster)',
      );
    }
    if (v['pin-host-keys'] && v['known-hosts-out'] !== undefined) {
      throw new UsageError('--pin-host-keys puts the keys in the config: drop --known-hosts-out');
    }
  }
  onlyFor('--watch', 'status', v.watch === undefined || cmd === 'status');
  if (v.all && (v.workers || v.node)) throw new UsageError('--all already names every node: drop --workers/--node');
  if (cmd === 'job') {
    const [action, jobId, more] = extra;
    if (!action) throw new UsageError(`job needs an action: ${JOB_ACTIONS.join(', ')}`);
    if (!JOB_ACTIONS.includes(action as JobAction)) {
      const match = closestMatch(action, JOB_ACTIONS);
      throw new UsageError(
        `unknown job action "${action}"${match ? `: did you mean "job ${match}"?` : `: expected one of ${JOB_ACTIONS.join(', ')}`}`,
      );
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

function envFormat(value: string | undefined): CliSettings['format'] {
  if (value === undefined) return 'sh';
  if (!(ENV_FORMATS as readonly string[]).includes(value)) {
    throw new UsageError(`--format must be one of ${ENV_FORMATS.join(', ')}, got "${value}"`);
  }
  return value as CliSettings['format'];
}

function firewallFormat(value: string | undefined): FirewallFormat {
  if (value === undefined) return 'table';
  if (!(FIREWALL_FORMATS as readonly string[]).includes(value)) {
    throw new UsageError(`--format must be one of ${FIREWALL_FORMATS.join(', ')}, got "${value}"`);
  }
  return value as FirewallFormat;
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
