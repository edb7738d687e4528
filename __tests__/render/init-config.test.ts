// The first config `init` writes: its exact text for three hosts, and that the real config loader
// reads it as valid, with the values init proposed.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { proposeRayConfig, proposeRaySpec } from '../../src/engine/decisions/init-values';
import type { HostFacts, InitNode, InitResult } from '../../src/engine/types';
import { renderInitConfig } from '../../src/render/init-config';

const GiB = 1024 ** 3;

function facts(over: Partial<HostFacts> = {}): HostFacts {
  return {
    hostname: 'h',
    cpus: 16,
    memoryBytes: 62.8 * GiB,
    shmBytes: 31.4 * GiB,
    gpus: [],
    gpuSource: null,
    python: { path: '/usr/bin/python3', version: '3.11.2' },
    ray: { version: '2.60.0', python: '/opt/ray/bin/python3' },
    portsInUse: [],
    ...over,
  };
}

function node(name: string, role: 'head' | 'worker', input: string, host: string, f: HostFacts): InitNode {
  return {
    name,
    role,
    input,
    host,
    port: 22,
    ok: true,
    login: 'deploy',
    facts: f,
    hostKey: {
      type: 'ssh-ed25519',
      fingerprint: `SHA256:${name}`,
      knownHostsLine: `${host} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHqvCoaHKVVL7+b9geLbHpZ0sf32wPXLJ2T90u6aCQaP`,
      isNew: true,
    },
    rayConfig: proposeRayConfig(role, f),
  };
}

function result(nodes: InitNode[]): InitResult {
  return {
    ok: true,
    nodes,
    raySpec: proposeRaySpec(nodes.map((n) => ({ name: n.name, facts: n.facts! }))),
    errors: [],
    warnings: [],
    elapsedMs: 1,
  };
}

const gpuHost = facts({
  cpus: 32,
  gpus: [
    { name: 'NVIDIA A100', memoryBytes: 40 * GiB },
    { name: 'NVIDIA A100', memoryBytes: 40 * GiB },
  ],
  gpuSource: 'nvidia-smi',
});
const three = result([
  node('ray-head', 'head', '10.0.0.5', '10.0.0.5', facts()),
  node('ray-worker-1', 'worker', 'deploy@gpu-1', 'gpu-1', gpuHost),
  node('ray-worker-2', 'worker', '10.0.0.7', '10.0.0.7', facts({ ray: null, rayProblem: 'no ray' })),
]);
const choices = {
  configPath: 'ray-config.yaml',
  pinHostKeys: false,
  knownHostsFile: 'known_hosts',
  loginFlags: ['--user', 'deploy'],
};

describe('the config init writes', () => {
  it('is the design note shape with comments saying what was found (exact text)', () => {
    expect(renderInitConfig(three, choices))
      .toBe(`# yaml-language-server: $schema=https://raw.githubusercontent.com/nokube/ray-deploy/main/schema/ray-config.schema.json
# Written by \`nokube ray init\` from what it found on each host; every key is explained in
# https://github.com/nokube/ray-deploy/blob/main/docs/config.md
# Check it (nokube ray validate --config ray-config.yaml), then start the cluster:
#   nokube ray start --config ray-config.yaml --known-hosts known_hosts --user deploy
# The hosts' SSH keys, as accepted when init connected, are in known_hosts.

ray_spec:
  # The dashboard's port for the whole cluster (the head's ray_config.dashboard_port wins).
  dashboard_port: 8265
  # The exact Ray version every node must run, checked before anything starts: ray-worker-2 has no Ray: nokube installs Ray 2.60.0 where it is missing.
  ray_version: '2.60.0'
  # A node whose Python lacks ray_version gets a venv under its storage path with ray[default] from
  # PyPI (index_url: a mirror; find_links: a wheel directory for sites without internet).
  install:
    extras: ['default']

nodes:
  # 10.0.0.5: 16 CPUs, 62.8 GiB, no GPU, Python 3.11.2, Ray 2.60.0
  - ssh_url: '10.0.0.5:22'
    name: 'ray-head'
    role: 'head'
    ray_config:
      # Ray Client: ray://10.0.0.5:10001
      port: 10001
      # The dashboard and the job API: http://10.0.0.5:8265
      dashboard_port: 8265
      # CPUs Ray may use here (the host has 16)
      num_cpus: 16
      # object_store_memory: left to Ray, which takes about 30% of the memory (62.8 GiB) and at most /dev/shm (31.4 GiB)
    # storage: where nokube keeps its state and Ray its files; left out: ~/.nokube/default of the login user
    #   type: 'local'
    #   path: '/opt/nokube/data/ray/head'
    # users: left out: logs in as deploy with your keys or ssh-agent; a user here needs a password or sshkey

  # deploy@gpu-1: 32 CPUs, 62.8 GiB, 2 GPUs (NVIDIA A100), Python 3.11.2, Ray 2.60.0
  - ssh_url: 'gpu-1:22'
    name: 'ray-worker-1'
    role: 'worker'
    ray_config:
      # CPUs Ray may use here (the host has 32)
      num_cpus: 32
      # GPUs Ray may use here (nvidia-smi: NVIDIA A100)
      num_gpus: 2
      # object_store_memory: left to Ray, which takes about 30% of the memory (62.8 GiB) and at most /dev/shm (31.4 GiB)
    # storage: where nokube keeps its state and Ray its files; left out: ~/.nokube/default of the login user
    #   type: 'local'
    #   path: '/opt/nokube/data/ray/worker-1'
    # users: left out: logs in as deploy with your keys or ssh-agent; a user here needs a password or sshkey

  # 10.0.0.7: 16 CPUs, 62.8 GiB, no GPU, Python 3.11.2, no Ray
  - ssh_url: '10.0.0.7:22'
    name: 'ray-worker-2'
    role: 'worker'
    ray_config:
      # CPUs Ray may use here (the host has 16)
      num_cpus: 16
      # object_store_memory: left to Ray, which takes about 30% of the memory (62.8 GiB) and at most /dev/shm (31.4 GiB)
    # storage: where nokube keeps its state and Ray its files; left out: ~/.nokube/default of the login user
    #   type: 'local'
    #   path: '/opt/nokube/data/ray/worker-2'
    # users: left out: logs in as deploy with your keys or ssh-agent; a user here needs a password or sshkey
`);
  });

  it('passes validate through the real config loader, with the values init proposed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nokube-init-'));
    for (const [pin, text] of [
      [false, renderInitConfig(three, choices)],
      [true, renderInitConfig(three, { ...choices, pinHostKeys: true })],
    ] as const) {
      const file = join(dir, `ray-config-${pin}.yaml`);
      writeFileSync(file, text);
      const parsed = loadConfig(file, { defaultUser: 'deploy' });
      expect(parsed.diagnostics).toEqual([]);
      const config = parsed.config!;
      expect(config.rayVersion).toBe('2.60.0');
      expect(config.install).toBeTruthy();
      expect(config.nodes.map((n) => [n.name, n.role, n.sshUrl])).toEqual([
        ['ray-head', 'head', '10.0.0.5:22'],
        ['ray-worker-1', 'worker', 'gpu-1:22'],
        ['ray-worker-2', 'worker', '10.0.0.7:22'],
      ]);
      expect(config.nodes[1].ray).toMatchObject({ numCpus: 32, numGpus: 2 });
      expect(config.nodes[0].hostKey).toBe(
        pin ? 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHqvCoaHKVVL7+b9geLbHpZ0sf32wPXLJ2T90u6aCQaP' : undefined,
      );
    }
  });

  it('pins one Ray version and installs nothing when every host has it', () => {
    const same = result([
      node('ray-head', 'head', 'a', 'a', facts()),
      node('ray-worker-1', 'worker', 'b', 'b', facts()),
    ]);
    expect(same.raySpec).toEqual({ rayVersion: '2.60.0', install: false, reason: 'every host has Ray 2.60.0' });
    expect(renderInitConfig(same, choices)).not.toContain('install:');
  });

  it('proposes the newest when the hosts disagree', () => {
    const spec = proposeRaySpec([
      { name: 'a', facts: facts({ ray: { version: '2.9.3', python: 'p' } }) },
      { name: 'b', facts: facts({ ray: { version: '2.10.0', python: 'p' } }) },
    ]);
    expect(spec).toEqual({
      rayVersion: '2.10.0',
      install: true,
      reason: 'a has Ray 2.9.3: nokube installs Ray 2.10.0 where it is missing',
    });
  });
});
