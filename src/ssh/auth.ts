// Which user logs in to a node, and with what (SPEC section 2, `users`): the node's users in order,
// each with its password (after ${NAME} expansion) or the supplied private key / agent key whose
// public half matches its `sshkey`. Without `users`: the default user with every supplied key, then
// the agent. Secrets stay inside the plan; only `describe` strings reach messages.
import type { BaseAgent, ParsedKey } from 'ssh2';
import { ConfigError, resolveCredential } from '../credentials/references';
import { describeTarget, type SshLog, type SshOptions, type SshTarget, type SshUser } from './types';
import { agentKeys, FilteredAgent, openAgent } from './agent';
import { SshError, authHint } from './errors';
import { loadKeyRing, type LoadedKey } from './keys';
import { fingerprint, parsePublicKeyLine } from './public-key';

export type AuthStep =
  | { type: 'password'; password: string; describe: string }
  | { type: 'publickey'; key: LoadedKey; describe: string }
  | { type: 'agent'; agent: BaseAgent; describe: string };

export interface LoginPlan {
  user: string;
  steps: AuthStep[];
  /** Problems met while planning (unusable keys), for the error if every login fails. */
  notes: string[];
}

export interface PlanContext {
  env: Record<string, string | undefined>;
  reporter: SshLog;
}

/** The SSH protocol method a step uses (what the server's "methods that can continue" lists). */
export function protocolMethod(step: AuthStep): 'password' | 'publickey' {
  return step.type === 'password' ? 'password' : 'publickey';
}

export interface LoginPlans {
  plans: LoginPlan[];
  /** Users left out because their sshkey matches no supplied key (tried only if others fail: never). */
  skipped: SshError[];
}

/**
 * One plan per user, in config order. Throws (kind `config`) when nobody can even try: no user, an
 * unset ${NAME}, or no user whose key was supplied.
 */
export async function planLogins(node: SshTarget, opts: SshOptions, ctx: PlanContext): Promise<LoginPlans> {
  if (node.users.length === 0) return { plans: [await defaultLogin(node, opts, ctx)], skipped: [] };
  const plans: LoginPlan[] = [];
  const skipped: SshError[] = [];
  for (const user of node.users) {
    const r = await userLogin(node, user, opts, ctx);
    if (r instanceof SshError) skipped.push(r);
    else plans.push(r);
  }
  if (plans.length === 0) {
    if (skipped.length === 1) throw skipped[0];
    throw configError(node, skipped.map((e) => e.message).join('; '), skipped[0].hint);
  }
  for (const e of skipped) ctx.reporter.debug(`[${node.name}] skipping user ${e.user}: ${e.message}`);
  return { plans, skipped };
}

function configError(node: SshTarget, message: string, hint: string, user?: string, cause?: unknown): SshError {
  return new SshError(message, {
    kind: 'config',
    node: node.name,
    host: node.host,
    port: node.sshPort,
    hint,
    ...(user !== undefined ? { user } : {}),
    ...(cause !== undefined ? { cause } : {}),
  });
}

function resolve(node: SshTarget, value: string, field: string, ctx: PlanContext, user: string): string {
  try {
    return resolveCredential(value, ctx.env, { node: node.name, field });
  } catch (err) {
    if (err instanceof ConfigError) {
      throw configError(node, err.message, err.hint ?? 'set the variable in the environment', user);
    }
    throw err;
  }
}

async function defaultLogin(node: SshTarget, opts: SshOptions, ctx: PlanContext): Promise<LoginPlan> {
  const user = opts.defaultUser;
  if (!user) {
    throw configError(
      node,
      `no user for ${describeTarget(node)}: add users: to the config or pass --user / ssh-user`,
      `add "users: [{userid: NAME, sshkey: ...}]" to ${describeTarget(node)} in the config, or pass --user NAME (CLI) / ssh-user (Action)`,
    );
  }
  const ring = loadKeyRing(opts, ctx.reporter);
  const notes: string[] = [];
  for (const bad of ring.unusable) {
    notes.push(bad.problem);
    ctx.reporter.warn(`${describeTarget(node)}: ${bad.problem}; skipping it`);
  }
  const steps: AuthStep[] = ring.usable.map((key) => ({ type: 'publickey', key, describe: describeKey(key) }));
  if (opts.agentSocket) steps.push({ type: 'agent', agent: openAgent(opts.agentSocket), describe: 'agent' });
  if (steps.length === 0) {
    const why = notes.length ? `: ${notes.join('; ')}` : '';
    throw configError(
      node,
      `no way to log in to ${describeTarget(node)} as ${user}: no usable private key and no ssh-agent${why}`,
      'supply a private key (ssh-private-key input, --identity FILE) with its passphrase if it has one, run an ssh-agent, or add users: with a password to the config',
      user,
    );
  }
  return { user, steps, notes };
}

async function userLogin(
  node: SshTarget,
  spec: SshUser,
  opts: SshOptions,
  ctx: PlanContext,
): Promise<LoginPlan | SshError> {
  // `userid: ${NAME}` is a credential like the others: expanded from the environment
  const user = resolve(node, spec.userid, 'userid', ctx, spec.userid);
  if (spec.password !== undefined) {
    const password = resolve(node, spec.password, `users[${user}].password`, ctx, user);
    ctx.reporter.secret(password);
    return { user, steps: [{ type: 'password', password, describe: 'password' }], notes: [] };
  }
  if (spec.sshkey === undefined) {
    throw configError(
      node,
      `${describeTarget(node)}: user ${user} has neither password nor sshkey`,
      'give each user exactly one of password or sshkey',
      user,
    );
  }
  const line = resolve(node, spec.sshkey, `users[${user}].sshkey`, ctx, user);
  const wanted = parsePublicKeyLine(line);
  if (!wanted) {
    throw configError(
      node,
      `${describeTarget(node)}: user ${user}: sshkey is not a public key line ("ssh-ed25519 AAAA... comment")`,
      'put the contents of the .pub file in sshkey; the private key goes in the ssh-private-key input / --identity',
      user,
    );
  }
  const wantedFp = fingerprint(wanted.blob);
  const ring = loadKeyRing(opts, ctx.reporter);
  const key = ring.usable.find((k) => k.blob.equals(wanted.blob));
  if (key) return { user, steps: [{ type: 'publickey', key, describe: describeKey(key) }], notes: [] };

  // The matching key was supplied but cannot be used (encrypted, wrong passphrase): say exactly that.
  const locked = ring.unusable.find((k) => k.blob?.equals(wanted.blob));
  if (locked) {
    return configError(
      node,
      `${describeTarget(node)}: user ${user}: ${locked.problem} (it is the key of sshkey ${wanted.type} ${wantedFp})`,
      "pass the key's passphrase (ssh-passphrase input, NOKUBE_SSH_PASSPHRASE), or supply the key unencrypted from a secret",
      user,
    );
  }
  const notes = ring.unusable.map((k) => k.problem);
  if (opts.agentSocket) {
    const inner = openAgent(opts.agentSocket);
    const listed = await agentKeys(inner);
    if (listed.problem) notes.push(listed.problem);
    const match = (k: ParsedKey) => k.getPublicSSH().equals(wanted.blob);
    if (listed.keys.some(match)) {
      return {
        user,
        steps: [
          { type: 'agent', agent: new FilteredAgent(inner, match), describe: `agent key ${wanted.type} ${wantedFp}` },
        ],
        notes,
      };
    }
  }
  const supplied = ring.usable.map((k) => `${k.label} (${k.type} ${k.fingerprint})`);
  const have = [
    supplied.length ? `supplied keys: ${supplied.join(', ')}` : 'no private key supplied',
    opts.agentSocket ? 'not in ssh-agent either' : 'no ssh-agent',
    ...notes,
  ].join('; ');
  return configError(
    node,
    `${describeTarget(node)}: user ${user}: no supplied private key matches sshkey ${wanted.type} ${wantedFp} (${have})`,
    `supply the private key whose public half is ${wantedFp} (ssh-private-key input, --identity FILE or ssh-agent); ` +
      'compare with `ssh-keygen -lf KEYFILE`',
    user,
  );
}

export function describeKey(key: LoadedKey): string {
  return `publickey ${key.type} (${key.label})`;
}

/** Assembles the auth error once every user's every method was refused. */
export function authFailure(node: SshTarget, logins: LoginPlans, tried: string[], extra: string[]): SshError {
  const users = logins.plans.map((p) => p.user);
  const notes = [
    ...new Set(
      logins.plans
        .flatMap((p) => p.notes)
        .concat(
          logins.skipped.map((e) => e.message),
          extra,
        ),
    ),
  ];
  const msg =
    `authentication failed on ${describeTarget(node)} (${node.host}:${node.sshPort}) for ${users.length > 1 ? 'users' : 'user'} ` +
    `${users.join(', ')}; tried: ${tried.length ? tried.join(', ') : 'nothing'}` +
    (notes.length ? `; ${notes.join('; ')}` : '');
  return new SshError(msg, {
    kind: 'auth',
    node: node.name,
    host: node.host,
    port: node.sshPort,
    user: users.join(', '),
    methodsTried: tried,
    hint: authHint(node.host, node.sshPort, users[users.length - 1] ?? 'user'),
  });
}
