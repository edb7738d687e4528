// The `nokube` CLI: flags into RunOptions, the engine's result onto the terminal, an exit code.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { version } from '../../package.json';
import { parseProxyJump } from '../config/proxy-jump';
import { sshConfigSettings } from '../config/ssh-config/settings';
import type { JumpHop } from '../config/types';
import { connectTimeoutSec, run } from '../engine';
import type { SessionOptions } from '../engine/types';
import type { PrivateKeySource, RunOptions } from '../engine/types';
import { findRemoteLibDir } from '../remote/locate';
import { USAGE, UsageError, parseCliArgs, type CliSettings } from './args';
import { SecretMask } from '../render/secret-mask';
import { bashCompletion, zshCompletion } from './completion';
import { firewallCommand } from './firewall';
import { terminalReporter } from './reporter';
import { printRunResult } from './run-output';
import { useCommand } from './use-commands';
import type { CliIO } from './io';
import { liveOutput } from '../render/live-output';

const DEFAULT_KEYS = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

export async function main(argv: string[], io: CliIO): Promise<number> {
  let settings: CliSettings;
  try {
    const parsed = parseCliArgs(argv);
    if ('help' in parsed) {
      io.stdout(parsed.help + '\n');
      return 0;
    }
    if ('completion' in parsed) {
      io.stdout(parsed.completion === 'bash' ? bashCompletion() : zshCompletion());
      return 0;
    }
    if ('version' in parsed) {
      io.stdout(`nokube ${version}\n`);
      return 0;
    }
    settings = parsed.settings;
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`nokube: ${err.message}\n\n${USAGE}\n`);
      return 2;
    }
    throw err;
  }

  if (settings.command === 'firewall') return firewallCommand(settings, io);

  const mask = new SecretMask();
  const debug = ['1', 'true', 'yes'].includes((io.env.NOKUBE_DEBUG ?? '').toLowerCase());
  const live = liveOutput(
    (stream, text) => (stream === 'stdout' ? io.stdout : io.stderr)(text),
    mask,
    settings.command === 'exec',
  );
  const reporter = {
    ...terminalReporter(io.stderr, mask, debug),
    ...(useCommand(settings.command) && !settings.json ? { output: live.output } : {}),
  };
  let options: SessionOptions;
  try {
    options = buildOptions(settings, io.env, reporter, io.signal);
    options.ssh.protocolDebug = debug;
  } catch (err) {
    io.stderr(`nokube: ${(err as Error).message}\n`);
    return 2;
  }

  const use = useCommand(settings.command);
  if (use) return use({ settings, options, io, mask, live });
  const raw = await run({ ...options, command: settings.command as RunOptions['command'] });
  return printRunResult(raw, settings, io, mask);
}

export { exitCode } from './run-output';

function buildOptions(
  s: CliSettings,
  env: Record<string, string | undefined>,
  reporter: RunOptions['reporter'],
  signal?: AbortSignal,
): SessionOptions {
  const ssh = join(homedir(), '.ssh');
  const explicit = s.identities.length > 0;
  const keyFiles = explicit ? s.identities : DEFAULT_KEYS.map((k) => join(ssh, k)).filter((f) => existsSync(f));
  const identities: PrivateKeySource[] = keyFiles.map((file) => {
    try {
      const key = readFileSync(file, 'utf8');
      reporter.secret(key);
      return { label: file, key };
    } catch (err) {
      throw new Error(
        `cannot read --identity ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
  });
  const knownHostsFile = s.knownHosts ?? join(ssh, 'known_hosts');
  let knownHosts = '';
  if (s.knownHosts || existsSync(knownHostsFile)) {
    try {
      knownHosts = readFileSync(knownHostsFile, 'utf8');
    } catch (err) {
      throw new Error(
        `cannot read --known-hosts ${knownHostsFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
  }
  const passphrase = env.NOKUBE_SSH_PASSPHRASE || undefined;
  if (passphrase) reporter.secret(passphrase);
  let previousConfigText: string | undefined;
  if (s.previous) {
    try {
      previousConfigText = readFileSync(s.previous, 'utf8');
    } catch (err) {
      throw new Error(
        `cannot read --previous ${s.previous}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
  }
  return {
    configPath: s.config,
    ssh: {
      identities,
      passphrase,
      agentSocket: env.SSH_AUTH_SOCK || undefined,
      knownHosts,
      insecureSkipHostKeyCheck: s.insecureSkipHostKeyCheck,
      defaultUser: s.user,
      ...(s.proxyJump !== undefined ? { proxyJump: proxyJumpFlag(s.proxyJump) } : {}),
      ...sshConfigOption(s.sshConfig, ssh, reporter),
      connectTimeoutSec: connectTimeoutSec(s.timeoutSec),
    },
    concurrency: s.concurrency,
    timeoutSec: s.timeoutSec,
    waitLockSec: s.waitLockSec,
    env,
    allowMissingEnv: s.allowMissingEnv,
    remoteLibDir: findRemoteLibDir(__dirname),
    reporter,
    previousConfigText,
    offline: s.offline || (s.previous !== undefined && s.command === 'plan'),
    noDrain: s.noDrain,
    // the CLI run as a workflow step names the run in the deploy lock, as the Action does
    deployer: env.GITHUB_RUN_ID ? `run ${env.GITHUB_RUN_ID}` : undefined,
    seenBy: 'cli',
    ...useRequests(s),
    signal,
  };
}

/** ~/.ssh/config (or --ssh-config FILE) as per-host settings; nothing when absent or "none". */
function sshConfigOption(
  flag: string | undefined,
  sshDir: string,
  reporter: RunOptions['reporter'],
): Pick<RunOptions['ssh'], 'hostSettings'> {
  if (flag === 'none') return {};
  const file = flag ?? join(sshDir, 'config');
  if (flag === undefined && !existsSync(file)) return {};
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(
      `cannot read --ssh-config ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  const hostSettings = sshConfigSettings({
    text,
    label: file,
    home: homedir(),
    readFile: (p) => readFileSync(p, 'utf8'),
    listDir: (p) => readdirSync(p),
    debug: (m) => reporter.debug(m),
    secret: (v) => reporter.secret(v),
  });
  return { hostSettings };
}

function proxyJumpFlag(text: string): JumpHop[] {
  const parsed = parseProxyJump(text);
  if (!parsed.ok) throw new Error(`--proxy-jump: ${parsed.message.replace(/^proxy_jump:? ?/, '')} (${parsed.hint})`);
  return parsed.hops;
}

function useRequests(s: CliSettings): Pick<RunOptions, 'job' | 'exec' | 'withToken'> {
  if (s.command === 'job') {
    return {
      job: {
        action: s.jobAction!,
        entrypoint: s.rest,
        workingDir: s.workingDir,
        runtimeEnvJson: s.runtimeEnvJson,
        noWait: s.noWait,
        jobId: s.jobId,
      },
    };
  }
  if (s.command === 'exec') return { exec: { argv: s.rest, nodes: s.nodes, all: s.all, workers: s.workers } };
  if (s.command === 'env') return { withToken: true };
  return {};
}
