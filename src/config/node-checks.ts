// Checks on one node that the schema cannot express: ssh_url form, head-only keys, the head's three
// ports, resource and label names, storage path, users and their credentials, host key.
import { isIP } from 'node:net';
import { checkReferences, findCredentialRefs, hasCredentialRefs } from '../credentials/references';
import type { Findings } from './diagnostics';
import { checkHostKey, checkPublicKeyLine, PRIVATE_KEY_HINT } from './keys';
import { asInteger, asList, asMap, asString, type PlainMap } from './plain';
import { joinPath } from './paths';
import { parseProxyJump } from './proxy-jump';
import { parseSshUrl } from './ssh-url';
import { DEFAULT_DASHBOARD_PORT, HEAD_ONLY_RAY_KEYS, HEAD_PORT_RAY_KEYS, RESOURCE_RAY_KEYS } from './ray-keys';
import type { SourcePos } from './types';
import { looksLikePrivateKey } from './values';
import type { SourceIndex } from './yaml/source-index';

export interface NodeCheckContext {
  findings: Findings;
  index: SourceIndex;
  /** Paths the shape check already reported: not reported twice. */
  shapeProblems: Set<string>;
  defaultUser?: string;
  /** The environment `${NAME}` references are read from; without it they are only checked for syntax. */
  env?: Record<string, string | undefined>;
  /** An unset variable is a warning, not an error (an offline plan, where secrets are absent by design). */
  allowMissingEnv?: boolean;
  /** `ray_spec.dashboard_port` when valid. */
  clusterDashboardPort?: number;
}

/** What cluster-wide checks need to know about a node, when its values were usable. */
export interface NodeFacts {
  index: number;
  name?: string;
  role?: 'head' | 'worker';
  host?: string;
  sshPort?: number;
  storagePath?: string;
}

export function checkNode(node: PlainMap, i: number, ctx: NodeCheckContext): NodeFacts {
  const at = `nodes[${i}]`;
  const facts: NodeFacts = { index: i };
  const name = asString(node.name);
  if (name !== undefined && !ctx.shapeProblems.has(`${at}.name`)) facts.name = name;
  if (node.role === 'head' || node.role === 'worker') facts.role = node.role;

  const sshUrl = asString(node.ssh_url);
  if (sshUrl !== undefined && !ctx.shapeProblems.has(`${at}.ssh_url`)) {
    const parsed = parseSshUrl(sshUrl);
    if (parsed.ok) {
      facts.host = parsed.host;
      facts.sshPort = parsed.port;
    } else {
      ctx.findings.error(`${at}.ssh_url`, parsed.message, { hint: parsed.hint });
    }
  }

  const rayConfig = asMap(node.ray_config);
  if (rayConfig) checkRayConfig(rayConfig, `${at}.ray_config`, facts.role, ctx);

  const storage = asMap(node.storage);
  const path = storage ? asString(storage.path) : undefined;
  if (path !== undefined && !ctx.shapeProblems.has(`${at}.storage.path`)) {
    const problem = storagePathProblem(path);
    if (problem) ctx.findings.error(`${at}.storage.path`, problem.message, { hint: problem.hint });
    else facts.storagePath = path.replace(/\/+$/, '') || '/';
  }

  checkUsers(node, at, ctx);

  const hostKey = asString(node.host_key);
  if (hostKey !== undefined && !looksLikePrivateKey(hostKey) && !ctx.shapeProblems.has(`${at}.host_key`)) {
    const problem = checkHostKey(hostKey);
    if (problem) ctx.findings.error(`${at}.host_key`, problem.message, { hint: problem.hint });
  }
  checkProxyJump(node, at, ctx);
  return facts;
}

/** `proxy_jump` of a node or of ray_spec (`at` is the mapping holding it). */
export function checkProxyJump(
  map: PlainMap,
  at: string,
  ctx: Pick<NodeCheckContext, 'findings' | 'shapeProblems'>,
): void {
  const jump = asString(map.proxy_jump);
  if (jump === undefined || ctx.shapeProblems.has(`${at}.proxy_jump`)) return;
  const parsed = parseProxyJump(jump);
  if (!parsed.ok) ctx.findings.error(`${at}.proxy_jump`, parsed.message, { hint: parsed.hint });
}

function checkRayConfig(
  rayConfig: PlainMap,
  at: string,
  role: 'head' | 'worker' | undefined,
  ctx: NodeCheckContext,
): void {
  if (role === 'worker') {
    for (const { yaml: key, headOnly: why } of HEAD_ONLY_RAY_KEYS) {
      if (!(key in rayConfig)) continue;
      ctx.findings.error(`${at}.${key}`, `${key} is a head-only setting, but this node is a worker (${why})`, {
        at: 'key',
        hint: "move it to the head's ray_config, or remove it",
      });
    }
  }
  if (role === 'head') checkHeadPorts(rayConfig, at, ctx);

  const resources = asMap(rayConfig.resources);
  for (const resource of Object.keys(resources ?? {})) {
    const path = joinPath(`${at}.resources`, resource);
    const own = RESERVED_RESOURCES[resource.toLowerCase()];
    if (own)
      ctx.findings.error(path, `"${resource}" is not a custom resource: Ray sets it from ${own}`, {
        at: 'key',
        hint: `use ray_config.${own} instead`,
      });
    else if (resource.trim() === '')
      ctx.findings.error(path, 'a resource needs a name', { at: 'key', hint: 'write resources: {my_accelerator: 1}' });
  }

  const labels = asMap(rayConfig.labels);
  for (const [key, value] of Object.entries(labels ?? {})) {
    const path = joinPath(`${at}.labels`, key);
    const keyProblem = labelKeyProblem(key);
    if (keyProblem) ctx.findings.error(path, keyProblem.message, { at: 'key', hint: keyProblem.hint });
    if (typeof value === 'string' && !LABEL_VALUE.test(value)) {
      ctx.findings.error(path, `label value ${JSON.stringify(value.slice(0, 70))} is not allowed`, {
        hint: 'up to 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit (or empty)',
      });
    }
  }

  const addressHints: Record<string, string> = {
    node_ip_address:
      'give the address other nodes reach this one at, e.g. 10.0.0.5; leave it out to use the address in ssh_url',
    dashboard_host:
      "give one of the head's addresses, e.g. 10.0.0.5, 127.0.0.1 (only over SSH: nokube ray dashboard) or 0.0.0.0 (every interface)",
  };
  for (const [key, hint] of Object.entries(addressHints)) {
    const ip = asString(rayConfig[key]);
    if (ip === undefined || ctx.shapeProblems.has(`${at}.${key}`) || isIP(ip.replace(/^\[(.*)\]$/, '$1')) !== 0)
      continue;
    ctx.findings.error(`${at}.${key}`, `"${ip.slice(0, 60)}" is not an IPv4 or IPv6 address`, { hint });
  }
}

// Ray refuses its own resource names as custom resources: each has its own key.
const RESERVED_RESOURCES: Record<string, string> = Object.fromEntries(
  RESOURCE_RAY_KEYS.map((k) => [k.resource.toLowerCase(), k.yaml]),
);

/**
 * Ray refuses to start when two of its components share a port. Compared with defaults filled in,
 * and reported at the key the user wrote (a clash with a default is fixed by changing the written one).
 */
function checkHeadPorts(rayConfig: PlainMap, at: string, ctx: NodeCheckContext): void {
  interface HeadPort {
    key: string;
    value: number;
    path?: string;
    default: boolean;
  }
  const written = (key: string) => (ctx.shapeProblems.has(`${at}.${key}`) ? undefined : asInteger(rayConfig[key]));
  // The head's ports as the model will fill them in: written, else the table's default.
  const ports: HeadPort[] = HEAD_PORT_RAY_KEYS.map(({ yaml: key, default: fallback }) => {
    const value = written(key);
    if (value !== undefined) return { key, value, path: `${at}.${key}`, default: false };
    if (fallback === 'ray_spec.dashboard_port') {
      if (ctx.clusterDashboardPort !== undefined)
        return { key, value: ctx.clusterDashboardPort, path: 'ray_spec.dashboard_port', default: false };
      return { key, value: DEFAULT_DASHBOARD_PORT, default: true };
    }
    return { key, value: fallback, default: true };
  });
  const client = ports.find((p) => p.key === 'port')!;
  if (client.path !== undefined && client.value < 1024) {
    ctx.findings.error(
      client.path,
      `port ${client.value} is below 1024: Ray's Client server only takes ports 1024–65535`,
      {
        hint: 'use the default 10001, or another port from 1024 to 65535',
      },
    );
  }
  for (let a = 0; a < ports.length; a++) {
    for (let b = a + 1; b < ports.length; b++) {
      const first = ports[a]!;
      const second = ports[b]!;
      if (first.value !== second.value) continue;
      const blamed = second.path !== undefined ? second : first;
      const other = blamed === second ? first : second;
      if (blamed.path === undefined) continue;
      const otherName = `${other.key}${other.key === 'port' ? ' (Ray Client)' : ''}`;
      const otherWords = other.default
        ? `the default ${otherName}`
        : other.path === 'ray_spec.dashboard_port'
          ? `ray_spec.${otherName}`
          : `the head's ${otherName}`;
      ctx.findings.error(
        blamed.path,
        `${blamed.key} ${blamed.value} is also ${otherWords}: Ray refuses to start when two of its components share a port`,
        {
          hint: 'port (Ray Client, default 10001), gcs_port (default 6379) and dashboard_port (default 8265) must all differ',
        },
      );
    }
  }
}

const LABEL_NAME = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/;
const LABEL_PREFIX = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^([A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?)?$/;

/** Ray labels follow Kubernetes label syntax: `[prefix/]name`; `ray.io/` belongs to Ray, `nokube.io/` to us. */
function labelKeyProblem(key: string): { message: string; hint: string } | undefined {
  const slash = key.indexOf('/');
  const prefix = slash < 0 ? undefined : key.slice(0, slash);
  const name = slash < 0 ? key : key.slice(slash + 1);
  if (prefix !== undefined && /(^|\.)(ray\.io|nokube\.io)$/.test(prefix)) {
    return {
      message: `the label prefix "${prefix}/" is reserved`,
      hint: `${prefix === 'ray.io' ? 'Ray' : 'nokube'} sets these labels itself: use your own prefix, e.g. example.com/${name}`,
    };
  }
  if (prefix !== undefined && (prefix.length > 253 || !LABEL_PREFIX.test(prefix))) {
    return {
      message: `label prefix "${prefix.slice(0, 60)}" is not a DNS name`,
      hint: 'a prefix is a lowercase DNS name such as example.com, followed by "/"',
    };
  }
  if (!LABEL_NAME.test(name)) {
    return {
      message: `label name "${name.slice(0, 70)}" is not allowed`,
      hint: 'up to 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit; optionally prefixed by a DNS name and "/"',
    };
  }
  return undefined;
}

function storagePathProblem(path: string): { message: string; hint: string } | undefined {
  if ([...path].some((c) => c.charCodeAt(0) < 0x20))
    return { message: 'the storage path contains control characters', hint: 'write a plain absolute path' };
  if (path.startsWith('~')) {
    return {
      message: 'the storage path must be absolute; "~" is not expanded',
      hint: 'write the full path (e.g. /home/USER/.nokube/data), or leave storage out for ~/.nokube/<cluster_name> of the login user',
    };
  }
  if (path.includes('${'))
    return {
      message: 'the storage path cannot use ${...}',
      hint: 'only credentials under users are read from the environment',
    };
  if (!path.startsWith('/')) {
    return {
      message: `the storage path "${path.slice(0, 60)}" is relative`,
      hint: `write an absolute path on the node, e.g. /opt/nokube/${path.replace(/^\.\//, '').slice(0, 40)}`,
    };
  }
  return undefined;
}

function checkUsers(node: PlainMap, at: string, ctx: NodeCheckContext): void {
  const users = asList(node.users);
  if (users.length === 0 && node.users !== undefined && !Array.isArray(node.users) && node.users !== null) return;
  if (users.length === 0 && !ctx.defaultUser) {
    ctx.findings.warning(at, 'no users and no default login user was given', {
      hint: 'add users: - userid: NAME (with sshkey or password), or pass --user / the ssh-user input',
    });
  }
  users.forEach((entry, j) => {
    const user = asMap(entry);
    if (!user) return;
    const path = `${at}.users[${j}]`;
    const hasPassword = 'password' in user;
    const hasKey = 'sshkey' in user;
    if (!hasPassword && !hasKey) {
      ctx.findings.error(path, 'this user has neither password nor sshkey', {
        hint: 'add sshkey: "ssh-ed25519 AAAA..." (the public half of a key you supply) or password: ${ENV_NAME}',
      });
    } else if (hasPassword && hasKey) {
      const later = laterKey(ctx.index, `${path}.password`, `${path}.sshkey`);
      ctx.findings.error(later, 'a user has either password or sshkey, not both', {
        at: 'key',
        hint: 'keep one; to try both ways, list the same userid twice, once with each',
      });
    }

    const userid = asString(user.userid);
    if (userid !== undefined && !ctx.shapeProblems.has(`${path}.userid`)) {
      reportReferences(userid, `${path}.userid`, ctx, true);
      const bare = bareReference(userid);
      if (bare)
        ctx.findings.warning(
          `${path}.userid`,
          `\`$${bare}\` is not read from the environment: the login name is "$${bare}"`,
          {
            hint: BRACES_HINT(bare),
          },
        );
      else if (!userid.includes('${') && /[\s@:/]/.test(userid)) {
        ctx.findings.error(`${path}.userid`, `"${userid.slice(0, 40)}" is not a login name`, {
          hint: 'only the user name, e.g. deploy (no spaces, @, : or /)',
        });
      }
    }

    const password = asString(user.password);
    if (password !== undefined && !ctx.shapeProblems.has(`${path}.password`)) {
      checkPassword(
        password,
        `${path}.password`,
        ctx,
        'use password: ${ENV_NAME} and map a secret into that variable (or better, use sshkey)',
      );
    }

    const sshkey = asString(user.sshkey);
    if (sshkey !== undefined && !ctx.shapeProblems.has(`${path}.sshkey`) && !looksLikePrivateKey(sshkey)) {
      if (sshkey.includes('${')) reportReferences(sshkey, `${path}.sshkey`, ctx, true);
      else {
        const problem = checkPublicKeyLine(sshkey);
        const bare = bareReference(sshkey);
        if (problem)
          ctx.findings.error(`${path}.sshkey`, problem.message, { hint: bare ? BRACES_HINT(bare) : problem.hint });
      }
    }
  });
}

/**
 * A password's value (a login's, the Redis's): its `${NAME}` references, a `$NAME` without braces
 * (not read), and a plaintext one (a warning: it is in the repository). Never echoes the value.
 */
export function checkPassword(password: string, path: string, ctx: NodeCheckContext, plaintextHint: string): void {
  if (looksLikePrivateKey(password)) return;
  reportReferences(password, path, ctx, false);
  const bare = bareReference(password);
  if (bare) {
    ctx.findings.warning(path, `\`$${bare}\` is not read from the environment: the password is this text as written`, {
      hint: BRACES_HINT(bare),
    });
  } else if (!hasCredentialRefs(password) && !password.includes('${')) {
    ctx.findings.warning(path, 'a plaintext password is written in the config', { hint: plaintextHint });
  }
}

/**
 * Malformed `${...}` always; with an environment, also every variable that is unset (or empty: a
 * missing GitHub secret maps to "") and any that holds a private key.
 */
function reportReferences(value: string, path: string, ctx: NodeCheckContext, showNames: boolean): void {
  const problems = checkReferences(value, showNames);
  for (const problem of problems) {
    ctx.findings.error(path, problem.message, {
      hint: problem.hint,
      pos: referencePosition(ctx.index, path, value, problem.offset),
    });
  }
  if (!ctx.env || problems.length > 0) return;
  const field = path.replace(/^nodes\[\d+\]\./, '');
  for (const name of findCredentialRefs(value)) {
    const pos = referencePosition(ctx.index, path, value, value.indexOf(`\${${name}}`));
    const resolved = ctx.env[name];
    if (resolved === undefined || resolved === '') {
      const report = ctx.allowMissingEnv ? ctx.findings.warning : ctx.findings.error;
      report.call(ctx.findings, path, `environment variable ${name} is not set (${field} reads it)`, {
        pos,
        hint: ctx.allowMissingEnv
          ? 'fine for an offline plan; start, status and stop need it'
          : `set it (export ${name}=...), or in a workflow map a secret into it: env: ${name}: \${{ secrets.${name} }}; --allow-missing-env (the allow-missing-env input) makes this a warning for an offline plan`,
      });
    } else if (looksLikePrivateKey(resolved)) {
      ctx.findings.error(path, `environment variable ${name} holds a private key (not shown)`, {
        pos,
        hint: field.endsWith('sshkey')
          ? `sshkey takes the PUBLIC key line (ssh-keygen -y -f KEYFILE prints it); ${PRIVATE_KEY_HINT}`
          : PRIVATE_KEY_HINT,
      });
    }
  }
}

/** `$RAY_PW` (no braces), which is not expanded: the name, or undefined. `$$` and `${` are not it. */
function bareReference(value: string): string | undefined {
  return /(?:^|[^$])\$([A-Za-z_][A-Za-z0-9_]*)/.exec(value)?.[1];
}

const BRACES_HINT = (name: string) => `only \${NAME} with braces is read from the environment: write "\${${name}}"`;

/** Points at the `${` itself: the n-th `${` after where the value starts in the text. */
function referencePosition(
  index: SourceIndex,
  path: string,
  value: string,
  offsetInValue: number,
): SourcePos | undefined {
  const start = index.valueOffset(path);
  if (start === undefined) return undefined;
  const nth = value.slice(0, offsetInValue).split('${').length - 1;
  let at = start - 1;
  for (let k = 0; k <= nth; k++) {
    at = index.text.indexOf('${', at + 1);
    if (at < 0) return undefined;
  }
  return index.positionAt(at);
}

function laterKey(index: SourceIndex, a: string, b: string): string {
  const pa = index.positionOf(a, 'key');
  const pb = index.positionOf(b, 'key');
  return pa.line > pb.line || (pa.line === pb.line && pa.col > pb.col) ? a : b;
}
