// `init` on the terminal: the question about a new host key, what was found on each host, what was
// written and the next command; or, when a host could not be used, each problem and nothing written.
import type { HostKeyQuestion, InitResult } from '../engine/types';
import { describeFacts } from './init-config';

/** "ED25519", "ECDSA", "RSA", as OpenSSH names a key's type in its question. */
function keyTypeWord(type: string): string {
  if (type === 'ssh-ed25519') return 'ED25519';
  if (type.startsWith('ecdsa-')) return 'ECDSA';
  if (type === 'ssh-rsa') return 'RSA';
  return type;
}

/** The question OpenSSH asks about a host it has not seen, for one node (answered y/N). */
export function hostKeyPrompt(q: HostKeyQuestion): string {
  return (
    `The authenticity of ${q.node} (${q.address}) can't be established.\n` +
    `${keyTypeWord(q.type)} key fingerprint is ${q.fingerprint}.\n` +
    'Trust this key and record it? [y/N] '
  );
}

/** What --accept-new says for each key it trusts, as OpenSSH's "Permanently added". */
export function acceptedNewKey(q: HostKeyQuestion): string {
  return `${q.node} (${q.address}): new ${keyTypeWord(q.type)} key ${q.fingerprint} accepted (--accept-new)`;
}

export interface InitWritten {
  config: string;
  /** The known_hosts file written, and how many of its lines are new; undefined with --pin-host-keys. */
  knownHosts?: { file: string; added: number };
  pinned: boolean;
  /** The next command, as the user would type it. */
  startCommand: string;
}

export function renderInitReport(result: InitResult, written: InitWritten): string {
  const lines = result.nodes.map(
    (n) => `  ${n.name.padEnd(14)} ${n.input}: ${n.facts ? describeFacts(n.facts) : 'not looked at'}`,
  );
  const spec = result.raySpec;
  const keys = written.pinned
    ? `host keys pinned in it (host_key, ${result.nodes.filter((n) => n.hostKey?.isNew).length} new)`
    : written.knownHosts
      ? `host keys in ${written.knownHosts.file} (${written.knownHosts.added} line${written.knownHosts.added === 1 ? '' : 's'} added)`
      : '';
  return [
    `Found ${result.nodes.length} host${result.nodes.length === 1 ? '' : 's'}:`,
    ...lines,
    spec.rayVersion
      ? `Ray: ${spec.rayVersion}${spec.install ? ', installed by nokube where missing' : ''} (${spec.reason})`
      : '',
    ...result.warnings.map((w) => `warning: ${w}`),
    `Wrote ${written.config}${keys ? `; ${keys}` : ''}.`,
    `Next: ${written.startCommand}`,
  ]
    .filter(Boolean)
    .join('\n');
}

/** Why nothing was written: each host's problem, with what to do. */
export function renderInitFailure(result: InitResult, configPath: string, noTerminal: boolean): string {
  const lines = result.errors.map(
    (e) => `  ${e.node} (${e.host}): ${e.message}${e.hint ? `\n    hint: ${e.hint}` : ''}`,
  );
  const ok = result.nodes.filter((n) => n.ok).map((n) => n.name);
  return [
    `nokube: ${configPath} not written: ${result.errors.length} of ${result.nodes.length} hosts could not be used${ok.length ? ` (${ok.join(', ')} could)` : ''}:`,
    ...lines,
    ...(noTerminal
      ? [
          'There is no terminal to ask on about new host keys: pass --accept-new to trust keys not seen before ' +
            '(a changed key is still refused), or give their keys in --known-hosts FILE.',
        ]
      : []),
  ].join('\n');
}
