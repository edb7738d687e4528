// The first ray-config.yaml `init` writes, as text: the design note's shape (ray_spec, then nodes with
// ssh_url, name, role, ray_config, storage, users), each key with a comment saying what it means and
// what init found on the host. Pure: the same result gives the same text.
import type { HostFacts, InitNode, InitResult } from '../engine/types';
import { formatBytes } from '../words/bytes';

export interface InitConfigChoices {
  /** The config's file name, for the command lines in its header. */
  configPath: string;
  /** `host_key` pins in the file; otherwise the keys are in `knownHostsFile`. */
  pinHostKeys: boolean;
  knownHostsFile?: string;
  /** Flags the later commands need as init got them (--user, --identity), for the header's command line. */
  loginFlags: string[];
}

const SCHEMA_URL = 'https://raw.githubusercontent.com/nokube/ray-deploy/main/schema/ray-config.schema.json';
const REFERENCE_URL = 'https://github.com/nokube/ray-deploy/blob/main/docs/config.md';

export function renderInitConfig(result: InitResult, choices: InitConfigChoices): string {
  const head = result.nodes.find((n) => n.role === 'head');
  const flags = [
    `--config ${choices.configPath}`,
    ...(choices.pinHostKeys || !choices.knownHostsFile ? [] : [`--known-hosts ${choices.knownHostsFile}`]),
    ...choices.loginFlags,
  ].join(' ');
  const lines = [
    `# yaml-language-server: $schema=${SCHEMA_URL}`,
    '# Written by `nokube ray init` from what it found on each host; every key is explained in',
    `# ${REFERENCE_URL}`,
    `# Check it (nokube ray validate ${flags.split(' ').slice(0, 2).join(' ')}), then start the cluster:`,
    `#   nokube ray start ${flags}`,
    choices.pinHostKeys
      ? "# Each node's SSH host key is pinned below (host_key), as accepted when init connected."
      : `# The hosts' SSH keys, as accepted when init connected, are in ${choices.knownHostsFile}.`,
    '',
    ...raySpec(result),
    '',
    'nodes:',
  ];
  result.nodes.forEach((node, i) => {
    if (i > 0) lines.push('');
    lines.push(...nodeLines(node, head, choices));
  });
  return lines.join('\n') + '\n';
}

function raySpec(result: InitResult): string[] {
  const spec = result.raySpec;
  const lines = [
    'ray_spec:',
    "  # The dashboard's port for the whole cluster (the head's ray_config.dashboard_port wins).",
    '  dashboard_port: 8265',
  ];
  if (spec.rayVersion) {
    lines.push(
      `  # The exact Ray version every node must run, checked before anything starts: ${spec.reason}.`,
      `  ray_version: ${quote(spec.rayVersion)}`,
    );
  }
  if (spec.install) {
    lines.push(
      '  # A node whose Python lacks ray_version gets a venv under its storage path with ray[default] from',
      '  # PyPI (index_url: a mirror; find_links: a wheel directory for sites without internet).',
      '  install:',
      "    extras: ['default']",
    );
  }
  return lines;
}

function nodeLines(node: InitNode, head: InitNode | undefined, choices: InitConfigChoices): string[] {
  const facts = node.facts;
  const where = hostOf(head ?? node);
  const lines = [`  # ${node.input}${facts ? `: ${describeFacts(facts)}` : ''}`];
  lines.push(
    `  - ssh_url: ${quote(sshUrl(node))}`,
    `    name: ${quote(node.name)}`,
    `    role: ${quote(node.role)}`,
    '    ray_config:',
  );
  const rc = node.rayConfig;
  if (rc.port !== undefined) lines.push(`      # Ray Client: ray://${where}:${rc.port}`, `      port: ${rc.port}`);
  if (rc.dashboard_port !== undefined) {
    lines.push(`      # The dashboard and the job API: http://${where}:${rc.dashboard_port}`);
    lines.push(`      dashboard_port: ${rc.dashboard_port}`);
  }
  if (rc.num_cpus !== undefined)
    lines.push(`      # CPUs Ray may use here (the host has ${facts?.cpus ?? '?'})`, `      num_cpus: ${rc.num_cpus}`);
  if (rc.num_gpus !== undefined) {
    lines.push(`      # GPUs Ray may use here (${facts?.gpuSource ?? 'found'}: ${gpuNames(facts)})`);
    lines.push(`      num_gpus: ${rc.num_gpus}`);
  }
  const memory = facts?.memoryBytes ? formatBytes(facts.memoryBytes) : 'unknown';
  const shm = facts?.shmBytes ? formatBytes(facts.shmBytes) : 'unknown';
  lines.push(
    `      # object_store_memory: left to Ray, which takes about 30% of the memory (${memory}) and at most /dev/shm (${shm})`,
  );
  lines.push(
    '    # storage: where nokube keeps its state and Ray its files; left out: ~/.nokube/default of the login user',
    "    #   type: 'local'",
    `    #   path: '/opt/nokube/data/ray/${node.role === 'head' ? 'head' : node.name.replace(/^ray-/, '')}'`,
    `    # users: left out: logs in as ${node.login ?? node.user ?? 'the --user'} with your keys or ssh-agent; a user here needs a password or sshkey`,
  );
  if (choices.pinHostKeys && node.hostKey) {
    lines.push(
      `    # The SSH host key accepted when init connected (${node.hostKey.fingerprint})`,
      `    host_key: ${quote(node.hostKey.knownHostsLine.split(' ').slice(1).join(' '))}`,
    );
  }
  return lines;
}

/** "16 CPUs, 62.8 GiB, no GPU, Python 3.11.2, Ray 2.60.0" */
export function describeFacts(f: HostFacts): string {
  const parts = [
    `${f.cpus} CPU${f.cpus === 1 ? '' : 's'}`,
    f.memoryBytes ? formatBytes(f.memoryBytes) : 'memory unknown',
    f.gpus.length ? `${f.gpus.length} GPU${f.gpus.length === 1 ? '' : 's'} (${gpuNames(f)})` : 'no GPU',
    `Python ${f.python.version}`,
    f.ray ? `Ray ${f.ray.version}` : 'no Ray',
  ];
  return parts.join(', ');
}

function gpuNames(f: HostFacts | undefined): string {
  const names = [...new Set((f?.gpus ?? []).map((g) => g.name))];
  return names.join(', ');
}

/** host:port as ssh_url takes it: an IPv6 address in brackets. */
function sshUrl(node: InitNode): string {
  return `${hostOf(node)}:${node.port}`;
}

function hostOf(node: InitNode): string {
  return node.host.includes(':') ? `[${node.host}]` : node.host;
}

/** A single-quoted YAML scalar. */
function quote(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}
