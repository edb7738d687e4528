// `nokube ray init`: the hosts from the flags or a file, a y/N question per new host key (or
// --accept-new), the engine's look at the hosts, then the config and the hosts' keys written. Nothing
// is written unless every host could be used, and an existing config only with --force.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { formatDiagnostic, parseConfig } from '../config';
import { hostsFromFile, hostsFromFlags, run } from '../engine';
import type { HostKeyQuestion, InitResult, SessionOptions } from '../engine/types';
import { renderInitConfig } from '../render/init-config';
import { acceptedNewKey, hostKeyPrompt, renderInitFailure, renderInitReport } from '../render/init';
import type { SecretMask } from '../render/secret-mask';
import type { CliSettings } from './args';
import type { CliIO } from './io';

export async function initCommand(
  s: CliSettings,
  options: SessionOptions,
  io: CliIO,
  mask: SecretMask,
): Promise<number> {
  const usage = (message: string) => {
    io.stderr(`nokube: ${message}\n`);
    return 2;
  };
  const hosts = s.hostsFile !== undefined ? readHostsFile(s.hostsFile) : hostsFromFlags(s.head!, s.workerHosts);
  if (!hosts.ok) return usage(`${hosts.message} (${hosts.hint})`);
  if (existsSync(s.config) && !s.force) {
    return usage(
      `${s.config} exists: init never replaces a config unless told to (--force), or write another with --config FILE`,
    );
  }
  const knownHostsOut = s.pinHostKeys ? undefined : (s.knownHostsOut ?? join(dirname(s.config), 'known_hosts'));

  let noTerminal = false;
  const trustHostKey = async (q: HostKeyQuestion): Promise<boolean> => {
    if (s.acceptNew) {
      io.stderr(acceptedNewKey(q) + '\n');
      return true;
    }
    if (!io.ask) {
      noTerminal = true;
      return false;
    }
    const answer = (await io.ask(hostKeyPrompt(q))).trim().toLowerCase();
    return answer === 'y' || answer === 'yes' || answer === q.fingerprint.toLowerCase();
  };
  const result = await run({
    ...options,
    configPath: s.config,
    command: 'init',
    init: { hosts: hosts.hosts, trustHostKey },
  });

  if (s.json && !result.ok) io.stdout(mask.apply(JSON.stringify(result, null, 2)) + '\n');
  if (!result.ok) {
    io.stderr(mask.apply(renderInitFailure(result, s.config, noTerminal)) + '\n');
    return 1;
  }
  const loginFlags = loginFlagsOf(s, result);
  const text = renderInitConfig(result, {
    configPath: s.config,
    pinHostKeys: s.pinHostKeys,
    knownHostsFile: knownHostsOut && relativeTo(s.config, knownHostsOut),
    loginFlags,
  });
  // what init writes must be what validate reads: a bug here is caught before the file exists
  const checked = parseConfig(text, s.config, { defaultUser: s.user ?? 'user' });
  const errors = checked.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) {
    for (const d of errors) io.stderr(formatDiagnostic(d) + '\n');
    io.stderr(`nokube: internal error: the config init made does not validate; ${s.config} not written\n`);
    return 1;
  }
  try {
    writeFileSync(s.config, text, { flag: s.force ? 'w' : 'wx' });
  } catch (err) {
    return usage(`cannot write ${s.config}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let knownHosts: { file: string; added: number } | undefined;
  if (knownHostsOut) {
    try {
      knownHosts = { file: knownHostsOut, added: recordKeys(knownHostsOut, result) };
    } catch (err) {
      io.stderr(
        `nokube: ${s.config} written, but not ${knownHostsOut}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}\n`,
      );
      return 1;
    }
  }
  const startCommand = [
    'nokube ray start --config',
    s.config,
    ...(knownHostsOut ? ['--known-hosts', knownHostsOut] : []),
    ...loginFlags,
  ].join(' ');
  if (s.json) {
    io.stdout(mask.apply(JSON.stringify({ ...result, config: s.config, knownHosts }, null, 2)) + '\n');
  } else {
    io.stdout(
      mask.apply(renderInitReport(result, { config: s.config, knownHosts, pinned: s.pinHostKeys, startCommand })) +
        '\n',
    );
  }
  return 0;
}

function readHostsFile(file: string): ReturnType<typeof hostsFromFile> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    return {
      ok: false,
      message: `cannot read --hosts-file ${file}: ${code}`,
      hint: 'one [user@]host[:port] a line, the head first',
    };
  }
  return hostsFromFile(text, file);
}

/**
 * Adds the hosts' keys to the file (created when missing); lines already in it stay, none is removed.
 * Every node's key is written, known before or not, so the file alone verifies the cluster (the
 * Action's known-hosts input). Returns the number of lines added.
 */
function recordKeys(file: string, result: InitResult): number {
  const before = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const have = new Set(before.split('\n').map((l) => l.trim()));
  const add = [...new Set(result.nodes.map((n) => n.hostKey?.knownHostsLine).filter((l): l is string => !!l))].filter(
    (l) => !have.has(l),
  );
  if (add.length || !existsSync(file)) {
    const sep = before && !before.endsWith('\n') ? '\n' : '';
    writeFileSync(file, before + sep + add.map((l) => l + '\n').join(''), { mode: 0o644 });
  }
  return add.length;
}

/**
 * The flags start needs to log in as init did: --user when one was given (by the flag, or one user
 * for every host as user@host), the identity files and the ssh config given.
 */
function loginFlagsOf(s: CliSettings, result: InitResult): string[] {
  const written = [...new Set(result.nodes.map((n) => n.user).filter(Boolean))];
  const user = written.length === 1 && result.nodes.every((n) => n.user) ? written[0] : s.user;
  return [
    ...(user ? ['--user', user] : []),
    ...s.identities.flatMap((f) => ['--identity', f]),
    ...(s.sshConfig ? ['--ssh-config', s.sshConfig] : []),
  ];
}

/** The known_hosts path as the config's header names it: relative to the config's directory. */
function relativeTo(config: string, file: string): string {
  const rel = relative(dirname(config), file);
  return rel.startsWith('..') ? file : rel || basename(file);
}
