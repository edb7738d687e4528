// The Action's inputs as one typed object. This is the only file that reads core.getInput, and it
// registers every secret input with the runner before it looks at anything else.
import * as core from '@actions/core';
import { parseProxyJump } from '../config/proxy-jump';
import type { JumpHop } from '../config/types';
import { COMMANDS, DEFAULT_CONCURRENCY, DEFAULT_CONFIG, DEFAULT_TIMEOUT_SEC } from '../engine/decisions/defaults';
import type { Command } from '../engine/types';
import type { SecretRegistry } from './secrets';

/** The Action's commands: the engine's, and `firewall` (the rules in the job summary, from the config alone). */
export const ACTION_COMMANDS: readonly ActionCommand[] = [...COMMANDS, 'firewall'];
export type ActionCommand = Command | 'firewall';

export interface ActionInputs {
  command: ActionCommand;
  /** As given (relative to the workspace unless absolute). */
  config: string;
  /** One entry per private key found in `ssh-private-key`. */
  sshPrivateKeys: string[];
  sshPassphrase?: string;
  sshUser?: string;
  /** OpenSSH client config text (Host aliases); '' = none. */
  sshConfig: string;
  /** Jump hosts for nodes whose config gives no proxy_jump. */
  proxyJump?: JumpHop[];
  knownHosts: string;
  insecureSkipHostKeyCheck: boolean;
  /** An unset `${NAME}` in a credential is a warning (validate / plan without the secrets). */
  allowMissingEnv: boolean;
  githubToken?: string;
  commentOnPr: boolean;
  failOnUnhealthy: boolean;
  concurrency: number;
  timeoutSec: number;
  /** command: job */
  job?: { entrypoint: string; workingDirectory?: string; runtimeEnvJson?: string };
  waitLockSec: number;
  /** start/stop: no drain before a worker stops (as drain_timeout: 0). */
  noDrain: boolean;
}

/** A problem with one input; the message names it. */
export class InputError extends Error {
  constructor(
    readonly input: string,
    message: string,
  ) {
    super(`input ${input}: ${message}`);
    this.name = 'InputError';
  }
}

export function readInputs(secrets: SecretRegistry): ActionInputs {
  // Secrets first, before any other input is read or any message could echo one.
  const keyText = raw('ssh-private-key');
  const passphrase = raw('ssh-passphrase');
  const token = raw('github-token');
  secrets.add(keyText);
  const keys = splitPrivateKeys(keyText);
  for (const key of keys) secrets.add(key);
  secrets.add(passphrase);
  secrets.add(token);

  return {
    command: oneOf('command', 'plan', ACTION_COMMANDS),
    config: text('config') || DEFAULT_CONFIG,
    sshPrivateKeys: keys,
    sshPassphrase: passphrase || undefined,
    sshUser: text('ssh-user') || undefined,
    proxyJump: proxyJump('proxy-jump'),
    sshConfig: raw('ssh-config'),
    knownHosts: raw('known-hosts'),
    insecureSkipHostKeyCheck: bool('insecure-skip-host-key-check', false),
    allowMissingEnv: bool('allow-missing-env', false),
    githubToken: token.trim() || undefined,
    commentOnPr: bool('comment-on-pr', true),
    failOnUnhealthy: bool('fail-on-unhealthy', true),
    concurrency: positiveInt('concurrency', DEFAULT_CONCURRENCY, 1024),
    timeoutSec: positiveInt('timeout', DEFAULT_TIMEOUT_SEC, 86_400),
    ...jobInputs(),
    waitLockSec: positiveInt('wait-lock', 0, 86_400),
    noDrain: bool('no-drain', false),
  };
}

function proxyJump(name: string): JumpHop[] | undefined {
  const value = text(name);
  if (!value) return undefined;
  const parsed = parseProxyJump(value);
  if (!parsed.ok) throw new InputError(name, `${parsed.message.replace(/^proxy_jump:? ?/, '')} (${parsed.hint})`);
  return parsed.hops;
}

/** `command: job`'s inputs; `entrypoint` is required there and refused elsewhere. */
function jobInputs(): Pick<ActionInputs, 'job'> {
  const command = text('command').toLowerCase();
  const entrypoint = text('entrypoint');
  const workingDirectory = text('working-directory') || undefined;
  const runtimeEnvJson = text('runtime-env-json') || undefined;
  if (command !== 'job') {
    const given = [
      entrypoint && 'entrypoint',
      workingDirectory && 'working-directory',
      runtimeEnvJson && 'runtime-env-json',
    ];
    const first = given.find(Boolean);
    if (first) throw new InputError(first, `is only used by command: job (command is ${command || 'plan'})`);
    return {};
  }
  if (!entrypoint) throw new InputError('entrypoint', 'is required for command: job, e.g. `python smoke.py`');
  return { job: { entrypoint, workingDirectory, runtimeEnvJson } };
}

/**
 * Splits one secret holding several private keys (OpenSSH or PEM, pasted one after another) into
 * single keys. Line endings are normalised: secrets pasted from Windows editors carry CRLF.
 */
export function splitPrivateKeys(text: string): string[] {
  const normalized = text.replace(/\r\n?/g, '\n').trim();
  if (!normalized) return [];
  const blocks = [...normalized.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----\n[\s\S]*?\n-----END \1-----/g)].map(
    (m) => `${m[0]}\n`,
  );
  if (blocks.length === 0) {
    const hint = /^(ssh-|ecdsa-|sk-)/.test(normalized)
      ? 'this looks like a public key; give the private key (-----BEGIN OPENSSH PRIVATE KEY----- ...)'
      : 'expected one or more -----BEGIN ... PRIVATE KEY----- blocks';
    throw new InputError('ssh-private-key', `no private key found: ${hint}`);
  }
  for (const block of blocks) {
    if (!/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(block)) {
      throw new InputError(
        'ssh-private-key',
        `a ${block.match(/BEGIN ([A-Z0-9 ]+)-----/)?.[1]} block is not a private key`,
      );
    }
  }
  return blocks;
}

function raw(name: string): string {
  return core.getInput(name, { trimWhitespace: false });
}

function text(name: string): string {
  return core.getInput(name).trim();
}

function oneOf<T extends string>(name: string, fallback: T, allowed: readonly T[]): T {
  const value = text(name).toLowerCase() || fallback;
  if (!allowed.includes(value as T)) {
    throw new InputError(name, `"${text(name)}" is not one of ${allowed.join(', ')}`);
  }
  return value as T;
}

function bool(name: string, fallback: boolean): boolean {
  const value = text(name);
  if (!value) return fallback;
  if (/^(true|yes|on)$/i.test(value)) return true;
  if (/^(false|no|off)$/i.test(value)) return false;
  throw new InputError(name, `"${value}" is not a boolean (true or false)`);
}

function positiveInt(name: string, fallback: number, max: number): number {
  const value = text(name);
  if (!value) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > max) {
    throw new InputError(name, `"${value}" is not a whole number from 1 to ${max}`);
  }
  return Number(value);
}
