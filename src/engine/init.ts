// `init`: the story of a first config. Connect to every host the user listed (a new host key is
// trusted only when the front end's `trustHostKey` says so), look at each (remote_lib's probe: CPUs,
// memory, GPUs, Python, Ray, the head's ports), and propose each node's ray_config and the cluster's
// Ray version. Nothing is written here: the front end renders the file from the result.
import { DEFAULT_CLIENT_PORT, DEFAULT_DASHBOARD_PORT, DEFAULT_GCS_PORT } from '../config/types';
import { RemoteLib, loadRemoteLib } from '../remote/client';
import type { ProbeAnswer } from '../remote/types';
import { connectNode, isSshError, type NodeConnection, type SshOptions, type SshTarget } from '../ssh';
import { proposeRayConfig, proposeRaySpec } from './decisions/init-values';
import { mapLimit } from './steps/concurrency';
import type {
  HostFacts,
  HostKeyQuestion,
  InitHost,
  InitNode,
  InitRequest,
  InitResult,
  RunOptions,
  RunError,
} from './types';

/** The cluster name init's probe uses for its own files on the node (~/.nokube/default, the default's). */
const CLUSTER = 'default';

export async function initCluster(options: RunOptions<'init'>, request: InitRequest): Promise<InitResult> {
  const started = Date.now();
  const { reporter } = options;
  const lib = loadRemoteLib(options.remoteLibDir);
  const ask = oneAtATime(request.trustHostKey);

  const settled = await mapLimit(request.hosts, options.concurrency, async (host): Promise<InitNode> => {
    const node: InitNode = { ...host, ok: false, rayConfig: {} };
    let conn: NodeConnection | undefined;
    try {
      const connected = await connectTrusting(host, options, ask);
      if ('refused' in connected) {
        node.keyRefused = true;
        node.error = connected.refused;
        reporter.node(host.name, `host key not trusted: ${host.input} not looked at`);
        return node;
      }
      conn = connected.conn;
      node.login = conn.user;
      const key = conn.hostKey;
      node.hostKey = {
        type: key.type,
        fingerprint: key.fingerprint,
        knownHostsLine: key.knownHostsLine ?? '',
        isNew: connected.isNew,
      };
      reporter.node(
        host.name,
        `connected as ${conn.user} (${key.type} ${key.fingerprint}, ${connected.isNew ? 'trusted now' : key.via})`,
      );
      const remote = new RemoteLib(conn, lib, {
        cluster: CLUSTER,
        timeoutMs: options.timeoutSec * 1000,
        debug: (m) => reporter.debug(`[${host.name}] ${m}`),
      });
      const answer = await remote.probe({
        role: host.role,
        ports: host.role === 'head' ? headPorts() : [],
        python: null,
        ray_version: null,
        gpus: true,
      });
      node.facts = factsOf(answer);
      node.rayConfig = proposeRayConfig(host.role, node.facts);
      node.ok = true;
      reporter.node(host.name, `looked at: ${node.facts.cpus} CPUs, Ray ${node.facts.ray?.version ?? 'not found'}`);
    } catch (err) {
      node.error = errorOf(host, err);
      reporter.node(host.name, `cannot look at ${host.input}: ${node.error.message}`);
    } finally {
      conn?.close();
    }
    return node;
  });
  const nodes = settled.map((s, i) =>
    s.status === 'fulfilled'
      ? s.value
      : { ...request.hosts[i], ok: false, rayConfig: {}, error: errorOf(request.hosts[i], s.reason) },
  );
  const looked = nodes.filter((n) => n.facts).map((n) => ({ name: n.name, facts: n.facts! }));
  const warnings = nodes.flatMap((n) =>
    (n.facts?.portsInUse ?? []).map(
      (p) => `${n.name} (${n.input}): port ${p.port} (${p.name}) is in use by another program: change it in ray_config`,
    ),
  );
  return {
    ok: nodes.every((n) => n.ok),
    nodes,
    raySpec: proposeRaySpec(looked),
    errors: nodes.flatMap((n) => (n.error ? [n.error] : [])),
    warnings,
    elapsedMs: Date.now() - started,
  };
}

type Connected = { conn: NodeConnection; isNew: boolean } | { refused: RunError };

/**
 * Connects as any other command does; a host key nothing is on record for is put to `ask`, and once
 * trusted, the connection is made again with it on record (so the key of the login is the one asked
 * about: a host that offers another one then is refused as changed).
 */
async function connectTrusting(
  host: InitHost,
  options: RunOptions<'init'>,
  ask: (q: HostKeyQuestion) => Promise<boolean>,
): Promise<Connected> {
  const target: SshTarget = { name: host.name, host: host.host, sshPort: host.port, users: [] };
  let ssh: SshOptions = { ...options.ssh, ...(host.user ? { defaultUser: host.user } : {}) };
  const ctx = { env: options.env, reporter: options.reporter, signal: options.signal };
  let isNew = false;
  for (;;) {
    try {
      return { conn: await connectNode(target, ssh, ctx), isNew };
    } catch (err) {
      // only the node's own key is asked about once; a jump host's is as known_hosts says
      if (!isNew && isSshError(err) && err.unknownKey && err.node === host.name && err.knownHostsLine) {
        const address = err.port === 22 ? err.host : `${err.host}:${err.port}`;
        const type = err.knownHostsLine.split(' ')[1] ?? '';
        if (!(await ask({ node: host.name, address, type, fingerprint: err.fingerprint ?? '' }))) {
          return {
            refused: {
              node: host.name,
              host: host.input,
              message: `host key ${type} ${err.fingerprint} of ${address} was not trusted`,
              hint: `check it on the host (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub), then run init again and answer yes, or leave ${host.input} out`,
            },
          };
        }
        ssh = { ...ssh, knownHosts: `${ssh.knownHosts}\n${err.knownHostsLine}\n` };
        isNew = true;
        continue;
      }
      throw err;
    }
  }
}

/** The questions asked one after another, never two prompts at once. */
function oneAtATime(trust: InitRequest['trustHostKey']): InitRequest['trustHostKey'] {
  let queue: Promise<unknown> = Promise.resolve();
  return (q) => {
    const answer = queue.then(() => trust(q));
    queue = answer.catch(() => undefined);
    return answer;
  };
}

function headPorts() {
  return [
    { name: 'port', port: DEFAULT_CLIENT_PORT },
    { name: 'gcs_port', port: DEFAULT_GCS_PORT },
    { name: 'dashboard_port', port: DEFAULT_DASHBOARD_PORT },
  ];
}

function factsOf(p: ProbeAnswer): HostFacts {
  return {
    hostname: p.hostname,
    cpus: p.cpus,
    memoryBytes: p.memory_bytes ?? null,
    shmBytes: p.shm_bytes ?? null,
    gpus: (p.gpus?.gpus ?? []).map((g) => ({
      name: g.name,
      ...(g.memory_bytes !== undefined ? { memoryBytes: g.memory_bytes } : {}),
    })),
    gpuSource: p.gpus?.source ?? null,
    python: { path: p.python.path, version: p.python.version },
    ray: p.ray ? { version: p.ray.version, python: p.ray.python } : null,
    ...(p.ray ? {} : { rayProblem: p.ray_error ?? 'no Ray found' }),
    portsInUse: p.ports.filter((x) => x.in_use && !x.by_this_cluster).map((x) => ({ name: x.name, port: x.port })),
  };
}

function errorOf(host: InitHost, err: unknown): RunError {
  const e = err as { message?: string; hint?: string };
  const hint = typeof e?.hint === 'string' ? e.hint : undefined;
  return { node: host.name, host: host.input, message: e?.message ?? String(err), ...(hint ? { hint } : {}) };
}
