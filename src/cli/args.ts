// `nokube ray <command> [flags]`: argv into typed CLI settings, or a usage error (exit 2).
// One table of flags gives the parser, `nokube ray --help`, `nokube ray <command> --help` and the
// shell completion scripts (completion.ts), so they never disagree.
import { parseArgs } from 'node:util';
import { closestMatch } from '../config/did-you-mean';
import { COMMANDS, DEFAULT_CONCURRENCY, DEFAULT_CONFIG, DEFAULT_TIMEOUT_SEC } from '../engine/defaults';
import type { Command } from '../engine/types';

export { COMMANDS };

/** What each command does, in one line (help and completion). */
export const COMMAND_WORDS: Record<Command, string> = {
  validate: 'check the config file, offline (exit 2 when invalid)',
  plan: 'show what start would change (live with credentials, else against --previous)',
  start: 'bring the cluster to the config: start, restart or stop nodes',
  status: "show every node's state (exit 1 unless healthy)",
  stop: "stop the cluster's Ray on every node",
};

const CONNECTING: readonly Command[] = ['plan', 'start', 'status', 'stop'];

export interface FlagSpec {
  name: string;
  short?: string;
  /** The value's name in help; no value means a boolean flag. */
  value?: string;
  multiple?: boolean;
  help: string;
  /** The commands it means something to. */
  commands: readonly Command[];
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
    name: 'insecure-skip-host-key-check',
    help: 'connect to hosts whose key is not known (not recommended)',
    commands: CONNECTING,
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
    name: 'allow-missing-env',
    help: 'an unset ${NAME} in a credential is a warning, not an error (always so for plan --offline)',
    commands: COMMANDS,
  },
  { name: 'json', help: "print one JSON document (keys: the Action's outputs)", commands: COMMANDS },
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
       nokube completion <bash|zsh>

Deploy, check and stop a Ray cluster on your own machines over SSH, from one ray-config.yaml.

Commands:
${COMMANDS.map((c) => `  ${c.padEnd(10)}${COMMAND_WORDS[c]}`).join('\n')}

Options (nokube ray <command> --help shows those of one command):
${flagLines([...FLAGS, ...GLOBAL_FLAGS]).join('\n')}

${FOOTER}`;

/** `nokube ray <command> --help`: that command's flags only. */
export function commandHelp(command: Command): string {
  return `Usage: nokube ray ${command} [options]

${COMMAND_WORDS[command]}.

Options:
${flagLines(FLAGS.filter((f) => f.commands.includes(command))).join('\n')}

${FOOTER}`;
}

export interface CliSettings {
  command: Command;
  config: string;
  identities: string[];
  knownHosts?: string;
  user?: string;
  insecureSkipHostKeyCheck: boolean;
  concurrency: number;
  timeoutSec: number;
  previous?: string;
  offline: boolean;
  allowMissingEnv: boolean;
  json: boolean;
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

export function parseCliArgs(argv: string[]): ParsedArgs {
  if (argv[0] === 'completion') {
    const shell = argv[1];
    if (shell === 'bash' || shell === 'zsh') return { completion: shell };
    throw new UsageError(
      shell ? `no completion for "${shell}": use bash or zsh` : 'missing shell: nokube completion bash (or zsh)',
    );
  }
  checkFlags(argv);
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: Object.fromEntries(
        [...FLAGS, ...GLOBAL_FLAGS].map((f) => [
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
  const [group, command, ...rest] = positionals;
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
  if (!COMMANDS.includes(command as Command)) {
    const match = closestMatch(command, COMMANDS);
    throw new UsageError(
      `unknown command "ray ${command}"${match ? `: did you mean "nokube ray ${match}"?` : `: expected one of ${COMMANDS.join(', ')}`}`,
    );
  }
  if (values.help) return { help: commandHelp(command as Command) };
  if (rest.length) throw new UsageError(`unexpected argument "${rest[0]}"`);
  const text = (name: string) => values[name] as string | undefined;
  return {
    settings: {
      command: command as Command,
      config: text('config') ?? DEFAULT_CONFIG,
      identities: (values.identity as string[] | undefined) ?? [],
      knownHosts: text('known-hosts'),
      user: text('user'),
      insecureSkipHostKeyCheck: !!values['insecure-skip-host-key-check'],
      concurrency: positiveInt(text('concurrency'), DEFAULT_CONCURRENCY, '--concurrency'),
      timeoutSec: positiveInt(text('timeout'), DEFAULT_TIMEOUT_SEC, '--timeout'),
      previous: text('previous'),
      offline: !!values.offline,
      allowMissingEnv: !!values['allow-missing-env'],
      json: !!values.json,
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
