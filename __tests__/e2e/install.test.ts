// ray_spec.install on real test hosts: Ray installed by the tool from a local package index served on
// the test bridge (the hosts reach no other network), nothing installed where the right Ray already
// is, an upgrade between two Ray versions, and an install that fails and leaves the node as it was.
// The wheels come from scripts/prepare-wheels.sh (run by setup-test-env.sh, cached outside the repo).
// Installs are slow on a small machine, so the suite does two: 2.60.0 and 2.59.0, both on nkbare.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nokube, type CliRun } from '../helpers/cli';
import { e2eEnabled, hostExec, rayStopAll, requireTestHosts, type HostsInfo } from './hosts';
import { INDEX, serveWheelIndex } from './wheel-index';

const BARE_STORAGE = '/opt/nokube/data/ray/bare';

function install(version: string, withHead: boolean, cluster: string): string {
  const bare = `
  - ssh_url: "10.88.0.100:22"
    name: ray-bare
    role: ${withHead ? 'worker' : 'head'}
    ray_config: {${withHead ? '' : 'port: 10001, '}num_cpus: 1, object_store_memory: 100000000}
    storage: {type: local, path: ${BARE_STORAGE}}`;
  const head = `
  - ssh_url: "10.88.0.11:22"
    name: ray-head
    role: head
    ray_config: {port: 10001, num_cpus: 1, object_store_memory: 100000000}
    storage: {type: local, path: /opt/nokube/data/ray/head}`;
  return `ray_spec:
  cluster_name: ${cluster}
  ray_version: "${version}"
  install:
    extras: [default]
    index_url: ${INDEX}
nodes:${withHead ? head : ''}${bare}
`;
}

/** The Ray version of the raylet running on a host, read from its executable's path. */
function runningRaylet(host: string): string {
  return hostExec(host, 'readlink -f /proc/$(pgrep -x raylet | head -1)/exe 2>/dev/null || true').stdout.trim();
}

describe.skipIf(!e2eEnabled)('Ray installed by the tool on real test hosts', () => {
  let info: HostsInfo;
  let dir: string;
  let flags: string[];
  let index: ChildProcess | undefined;
  const cfg = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const cli = (cmd: string, file: string): Promise<CliRun> => nokube(['ray', cmd, '--config', file, ...flags]);
  const out = (r: CliRun) => r.stderr + r.stdout;

  beforeAll(async () => {
    info = requireTestHosts();
    rayStopAll(info);
    dir = mkdtempSync(join(tmpdir(), 'nokube-install-'));
    flags = ['--user', 'nokube', '--identity', info.client.keys.ed25519, '--known-hosts', info.client.known_hosts];
    flags.push('--timeout', '240');
    index = await serveWheelIndex();
  });
  afterAll(() => {
    index?.kill();
    if (!info) return;
    rayStopAll(info);
    // nkbare is the host without Ray for the other suites: leave it so
    hostExec('nkbare', `pkill -KILL -u nokube -f 'ray|raylet|gcs_server' ; rm -rf ${BARE_STORAGE}; true`);
  });

  it('installs Ray on the node without it; the node that has it installs nothing; a re-run installs nothing', async () => {
    const file = cfg('install.yaml', install('2.60.0', true, 'e2e-install'));
    const plan = await cli('plan', file);
    expect(plan.code, out(plan)).toBe(0);
    const r = await cli('start', file);
    expect(r.code, out(r)).toBe(0);
    expect(out(r)).toMatch(/ray-bare\s+installing ray\[default\]==2\.60\.0/);
    expect(out(r)).toMatch(/ray-bare\s+installed Ray 2\.60\.0/);
    expect(out(r)).not.toMatch(/ray-head\s+installing/);
    // checked on the node itself: the venv has Ray 2.60.0 and the running raylet is that venv's
    const v = hostExec('nkbare', `${BARE_STORAGE}/venvs/ray-2.60.0/bin/python -c 'import ray; print(ray.__version__)'`);
    expect(v.stdout.trim()).toBe('2.60.0');
    expect(runningRaylet('nkbare')).toContain(`${BARE_STORAGE}/venvs/ray-2.60.0/`);

    const again = await cli('start', file);
    expect(again.code, out(again)).toBe(0);
    expect(out(again)).not.toMatch(/installing/);
    expect(out(again)).toContain('nothing to do');
    const stop = await cli('stop', file);
    expect(stop.code, out(stop)).toBe(0);
  });

  it('an upgrade: plan calls a ray_version change disruptive, start restarts the node on the new Ray', async () => {
    const old = cfg('v259.yaml', install('2.59.0', false, 'e2e-upgrade'));
    const first = await cli('start', old);
    expect(first.code, out(first)).toBe(0);
    expect(out(first)).toMatch(/ray-bare\s+installed Ray 2\.59\.0/);
    expect(runningRaylet('nkbare')).toContain('/venvs/ray-2.59.0/');

    const file = cfg('v260.yaml', install('2.60.0', false, 'e2e-upgrade'));
    const plan = await cli('plan', file);
    expect(plan.code, out(plan)).toBe(0);
    expect(plan.stdout).toMatch(/ray-bare\s+restart\s+restart head: running jobs and actors are lost/);
    expect(plan.stdout).toContain('ray_spec.ray_version: 2.59.0 → 2.60.0');

    const r = await cli('start', file);
    expect(r.code, out(r)).toBe(0);
    expect(out(r)).toMatch(/ray-bare\s+restarted/);
    expect(runningRaylet('nkbare')).toContain('/venvs/ray-2.60.0/');
  });

  it('a failed install names the node, the pip command and its last lines, and leaves the running Ray alone', async () => {
    const before = hostExec('nkbare', 'pgrep -x raylet').stdout.trim();
    expect(before).not.toBe('');
    const r = await cli('start', cfg('v258.yaml', install('2.58.0', false, 'e2e-upgrade')));
    expect(r.code).toBe(1);
    const text = out(r);
    // uv is in the local index: the venv gets it, and it installs
    expect(text).toMatch(
      /ray-bare: installing Ray 2\.58\.0 failed: uv pip install failed \(exit \d+\): ray\S* is not in the package sources/,
    );
    expect(text).toContain(
      `pip install --python ${BARE_STORAGE}/venvs/ray-2.58.0/bin/python ray[default]==2.58.0 --index-url ${INDEX} --allow-insecure-host 10.88.0.1`,
    );
    expect(text).toMatch(/there is no version of ray\[default\]==2\.58\.0|only the following versions of ray/i);
    expect(text).toContain('nothing was started or stopped');
    expect(hostExec('nkbare', 'pgrep -x raylet').stdout.trim()).toBe(before);
    expect(runningRaylet('nkbare')).toContain('/venvs/ray-2.60.0/');
    expect(hostExec('nkbare', `test -e ${BARE_STORAGE}/venvs/ray-2.58.0 && echo left || echo gone`).stdout.trim()).toBe(
      'gone',
    );
  });
});
