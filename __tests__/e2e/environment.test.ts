// One Python environment on every node (issue 24), on real test hosts with the local package index
// (scripts/prepare-wheels.sh) in its find-links form: the wheel directory, no index (what an offline site
// has). Two hosts without Ray get Ray and the cluster's packages in a venv nokube manages (one has a decoy
// `python` first on its login PATH); a package changed by hand is drift that `start` repairs; a pin
// against Ray's is an error at `plan`; a package missing from the sources fails at once, naming it; and a
// host whose Ray is the operator's (ray_spec.python) is reported, never changed, and its jobs' `python`
// is Ray's although the login PATH has another first.
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nokube, type CliRun } from '../helpers/cli';
import { e2eEnabled, hostExec, requireTestHosts, testHost, testhosts, type HostsInfo } from './hosts';
import { serveWheelIndex } from './wheel-index';

const LINKS = 'http://10.88.0.1:8099/files/';
const STORAGE = '/opt/nokube/data/ray/env';
const VENV = `${STORAGE}/venvs/ray-2.60.0`;
const HOSTS = ['nkenv1', 'nkenv2', 'nkdecoy'];

/** A job that imports every package on every node and runs `python` there the way a job's code would. */
const IMPORTS_PY = `
import subprocess, sys
import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy
ray.init()
print("entrypoint python", sys.executable)

@ray.remote(num_cpus=0)
def on_node():
    import socket
    import six, tabulate, toolz
    sub = subprocess.run(["python", "-c", "import sys, ray; print(sys.executable)"], capture_output=True, text=True)
    return "%s toolz=%s subprocess-python=%s%s" % (socket.gethostname(), toolz.__version__, sub.stdout.strip(), sub.stderr[-200:])

nodes = [n["NodeID"] for n in ray.nodes() if n["Alive"]]
for line in ray.get([on_node.options(scheduling_strategy=NodeAffinitySchedulingStrategy(n, soft=False)).remote() for n in nodes]):
    print("task on", line)
`;

describe.skipIf(!e2eEnabled)('one Python environment on every node', () => {
  let info: HostsInfo;
  let dir: string;
  let flags: string[];
  let index: ChildProcess | undefined;
  const cfg = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const cli = (args: string[], file: string): Promise<CliRun> =>
    nokube(['ray', ...args.slice(0, 1), '--config', file, ...flags, ...args.slice(1)]);
  const out = (r: CliRun) => r.stderr + r.stdout;
  const managed = (packages: string, extra = '') => `ray_spec:
  cluster_name: e2e-env
  ray_version: "2.60.0"
  install:
    extras: [default]
    find_links: ${LINKS}
    requirements: requirements.txt
    packages: [${packages}]${extra}
nodes:
  - ssh_url: "${testHost('nkenv1', info).ip}:22"
    name: env-head
    role: head
    ray_config: {port: 10001, num_cpus: 1, object_store_memory: 100000000}
    storage: {type: local, path: ${STORAGE}}
  - ssh_url: "${testHost('nkenv2', info).ip}:22"
    name: env-worker
    role: worker
    ray_config: {num_cpus: 1, object_store_memory: 100000000}
    storage: {type: local, path: ${STORAGE}}
`;
  const raylet = (host: string) => hostExec(host, 'pgrep -x raylet || true').stdout.trim();

  beforeAll(async () => {
    requireTestHosts();
    for (const [name, ...f] of [
      ['nkenv1', '--no-ray'],
      ['nkenv2', '--no-ray', '--decoy-python'],
      ['nkdecoy', '--decoy-python'],
    ]) {
      const r = testhosts('add', name!, ...f);
      if (r.code !== 0) throw new Error(`testhosts.sh add ${name} failed: ${r.stderr}`);
    }
    info = requireTestHosts();
    dir = mkdtempSync(join(tmpdir(), 'nokube-env-'));
    writeFileSync(join(dir, 'requirements.txt'), "# the cluster's packages\ntabulate==0.9.0\ntoolz==1.0.0\n");
    mkdirSync(join(dir, 'job'));
    writeFileSync(join(dir, 'job', 'imports.py'), IMPORTS_PY);
    flags = ['--user', 'nokube', '--identity', info.client.keys.ed25519, '--known-hosts', info.client.known_hosts];
    flags.push('--timeout', '300');
    index = await serveWheelIndex();
  }, 600_000);
  afterAll(() => {
    index?.kill();
    for (const h of HOSTS) testhosts('rm', h);
  });

  it('start installs Ray and the packages on every node from the find-links directory alone; a job imports them on every node', async () => {
    const file = cfg('managed.yaml', managed('six==1.17.0'));
    const plan = await cli(['plan'], file);
    expect(plan.code, out(plan)).toBe(0);
    expect(plan.stdout).toMatch(/install: .*ray==2\.60\.0 with uv from the package sources, else pip/);

    const r = await cli(['start'], file);
    expect(r.code, out(r)).toBe(0);
    expect(out(r)).toMatch(/env-head\s+installing ray\[default\]==2\.60\.0 and 3 packages/);
    expect(out(r)).toMatch(/env-worker\s+installed Ray 2\.60\.0 with uv/);
    for (const h of ['nkenv1', 'nkenv2']) {
      const v = hostExec(
        h,
        `${VENV}/bin/python -c 'import tabulate, toolz, six, ray; print(tabulate.__version__, toolz.__version__, six.__version__, ray.__version__)'`,
        { user: 'nokube' }, // as the login user: root would leave root-owned bytecode in the venv
      );
      expect(v.stdout.trim(), v.stderr).toBe('0.9.0 1.0.0 1.17.0 2.60.0');
      // offline: the installer was told to ask nothing but the links page
      expect(hostExec(h, `cat ${STORAGE}/logs/install-ray-2.60.0.log`).stdout).toContain(
        `--no-index --find-links ${LINKS}`,
      );
    }

    const job = await cli(['job', 'submit', '--working-dir', join(dir, 'job'), '--', 'python', 'imports.py'], file);
    expect(job.code, out(job)).toBe(0);
    expect(out(job)).toContain(`entrypoint python ${VENV}/bin/python`);
    // the worker's login PATH has a decoy python first: the task's `python` is still Ray's
    expect(out(job)).toContain(`task on nkenv1 toolz=1.0.0 subprocess-python=${VENV}/bin/python`);
    expect(out(job)).toContain(`task on nkenv2 toolz=1.0.0 subprocess-python=${VENV}/bin/python`);

    const status = await cli(['status', '--deep'], file);
    expect(status.code, out(status)).toBe(0);
    expect(out(status)).toMatch(/every node imports the cluster's packages: env-head, env-worker|2 nodes import/);
  });

  it('a package changed by hand is drift in plan and status; start puts it back without restarting Ray', async () => {
    const file = cfg('managed.yaml', managed('six==1.17.0'));
    const hand = hostExec(
      'nkenv2',
      `${VENV}/bin/python -m pip install -q --disable-pip-version-check --no-index --find-links ${LINKS} --trusted-host 10.88.0.1 toolz==0.12.1`,
      { user: 'nokube' },
    );
    expect(hand.code, hand.stderr).toBe(0);
    const before = raylet('nkenv2');
    expect(before).not.toBe('');

    const plan = await cli(['plan'], file);
    expect(plan.code, out(plan)).toBe(0);
    expect(plan.stdout).toMatch(/env-worker\s+keep/);
    expect(plan.stdout).toMatch(/package toolz: 0\.12\.1 -> 1\.0\.0|package toolz: 0\.12\.1 → 1\.0\.0/);
    const status = await cli(['status'], file);
    expect(status.code).toBe(1);
    expect(out(status)).toMatch(/env-worker: unhealthy environment: toolz 0\.12\.1 \(wanted 1\.0\.0\)/);

    const r = await cli(['start'], file);
    expect(r.code, out(r)).toBe(0);
    expect(out(r)).toMatch(/env-worker\s+installed with uv: toolz 0\.12\.1 → 1\.0\.0/);
    expect(out(r)).not.toMatch(/env-head\s+install/);
    expect(
      hostExec('nkenv2', `${VENV}/bin/python -c 'import toolz; print(toolz.__version__)'`, {
        user: 'nokube',
      }).stdout.trim(),
    ).toBe('1.0.0');
    expect(raylet('nkenv2')).toBe(before);
    expect((await cli(['status'], file)).code).toBe(0);
  });

  it("a pin against Ray's is an error at plan, naming the package and Ray's pin", async () => {
    const plan = await cli(['plan'], cfg('conflict.yaml', managed('six==1.17.0, click==6.7')));
    expect(plan.code).toBe(1);
    expect(out(plan)).toMatch(/click==6\.7 in ray_spec\.install conflicts with Ray 2\.60\.0: ray needs click>=7\.0/);
    const start = await cli(['start'], cfg('conflict.yaml', managed('six==1.17.0, click==6.7')));
    expect(start.code).toBe(1);
    expect(out(start)).toContain('nothing was started or stopped');
  });

  it('a package missing from the sources fails at once, naming node and package, and leaves Ray running', async () => {
    const before = raylet('nkenv1');
    const t0 = Date.now();
    const r = await cli(['start'], cfg('missing.yaml', managed('six==1.17.0, nosuchpkg==1.0')));
    expect(r.code).toBe(1);
    expect(Date.now() - t0).toBeLessThan(120_000);
    expect(out(r)).toMatch(
      /env-head: installing nosuchpkg.* failed: uv pip install failed \(exit \d+\): nosuchpkg.* is not in the package sources/,
    );
    expect(out(r)).toContain('last lines of its output');
    expect(raylet('nkenv1')).toBe(before);
  });

  it('an install that cannot finish in time (a package source that accepts and never answers) stops at ray_spec.install.timeout, naming the node, and leaves Ray running', async () => {
    // a find-links server that accepts every connection and never answers, as a stuck mirror does
    const held: Socket[] = [];
    const hole = createServer((s) => held.push(s.on('error', () => undefined)));
    await new Promise<void>((ok) => hole.listen(8098, '10.88.0.1', ok));
    try {
      const before = { head: raylet('nkenv1'), worker: raylet('nkenv2') };
      expect(before.head).not.toBe('');
      // six 1.16.0 instead of the installed 1.17.0: an install on both nodes, from the stuck source only
      const file = cfg(
        'stuck.yaml',
        managed('six==1.16.0', '\n    timeout: 10').replace(LINKS, 'http://10.88.0.1:8098/files/'),
      );
      const t0 = Date.now();
      const r = await cli(['start'], file);
      const ms = Date.now() - t0;
      expect(r.code, out(r)).toBe(1);
      expect(ms).toBeLessThan(90_000);
      for (const node of ['env-head', 'env-worker'])
        expect(out(r)).toMatch(
          new RegExp(
            `${node}: installing ray\\[default\\]==2\\.60\\.0 and 3 packages failed: uv pip install did not finish in time: stopped after 10 s, the bound of one node's install \\(ray_spec\\.install\\.timeout\\); the node's Ray is left as it was`,
          ),
        );
      expect(out(r)).toContain('check that the node reaches http://10.88.0.1:8098/files/ and that it answers');
      expect(held.length).toBeGreaterThan(0); // the installers did reach the stuck source
      // the running Ray and its environment are as they were
      expect(raylet('nkenv1')).toBe(before.head);
      expect(raylet('nkenv2')).toBe(before.worker);
      for (const h of ['nkenv1', 'nkenv2'])
        expect(
          hostExec(h, `${VENV}/bin/python -c 'import six; print(six.__version__)'`, { user: 'nokube' }).stdout.trim(),
        ).toBe('1.17.0');
      expect((await cli(['status'], cfg('managed.yaml', managed('six==1.17.0')))).code).toBe(0);
    } finally {
      for (const s of held) s.destroy();
      await new Promise((ok) => hole.close(ok));
    }
  });

  it('a worker whose Ray an operator restarted by hand from a login shell (a decoy python first on PATH): plan names it and the PATH, start restarts that node only, then the plan is clean', async () => {
    const file = cfg('managed.yaml', managed('six==1.17.0'));
    const clean = await cli(['plan', '--json'], file);
    expect(clean.code, out(clean)).toBe(0);
    expect(clean.json!.plan.map((p) => [p.node, p.action])).toEqual([
      ['env-head', 'keep'],
      ['env-worker', 'keep'],
    ]);
    // the operator stops the node's supervisor and Ray, and starts Ray again with the command nokube
    // ran (state/runtime.json), from a login shell: ~/.profile puts the decoy shims first on PATH
    const runtime = JSON.parse(hostExec('nkenv2', `cat ${STORAGE}/state/runtime.json`).stdout) as { argv: string[] };
    const state = `${STORAGE}/state`;
    // ([r]: the pattern must not match this very shell's command line)
    const stop = hostExec('nkenv2', `pkill -KILL -u nokube -f 'supervise-[r]un'; ${VENV}/bin/ray stop --force`, {
      user: 'nokube',
    });
    expect(stop.code, stop.stderr).toBe(0);
    const gone = hostExec(
      'nkenv2',
      'for i in $(seq 50); do pgrep -x raylet >/dev/null || exit 0; sleep 0.2; done; exit 1',
    );
    expect(gone.code, 'the raylet is gone').toBe(0);
    const hand = hostExec(
      'nkenv2',
      [
        'bash',
        '-lc',
        `command -v python; RAY_AUTH_MODE=token RAY_AUTH_TOKEN_PATH=${state}/auth_token ${VENV}/bin/ray ${runtime.argv.map((a) => `'${a}'`).join(' ')} </dev/null >/tmp/hand-start.log 2>&1; echo rc=$?`,
      ],
      { user: 'nokube' },
    );
    expect(hand.stdout, hand.stderr + hostExec('nkenv2', 'cat /tmp/hand-start.log').stdout).toContain('rc=0');
    expect(hand.stdout).toContain('/home/nokube/.pyenv/shims/python'); // the login shell's python
    const handRaylet = raylet('nkenv2');
    expect(handRaylet).not.toBe('');
    const headRaylet = raylet('nkenv1');

    const plan = await cli(['plan', '--json'], file);
    expect(plan.code, out(plan)).toBe(0);
    const items = plan.json!.plan;
    expect(items.find((p) => p.node === 'env-head')!.action).toBe('keep');
    const worker = items.find((p) => p.node === 'env-worker')!;
    expect(worker.action).toBe('restart');
    expect(worker.drift).toContainEqual({
      field: "python on Ray's PATH",
      from: '/home/nokube/.pyenv/shims/python',
      to: `${VENV}/bin/python`,
    });
    // and the terminal's plan says the same
    const text = await cli(['plan'], file);
    expect(text.stdout).toMatch(/env-worker\s+restart/);
    expect(text.stdout).toContain(`python on Ray's PATH: /home/nokube/.pyenv/shims/python → ${VENV}/bin/python`);

    const r = await cli(['start'], file);
    expect(r.code, out(r)).toBe(0);
    expect(raylet('nkenv1')).toBe(headRaylet); // the head is kept
    const repaired = raylet('nkenv2');
    expect(repaired).not.toBe('');
    expect(repaired).not.toBe(handRaylet);
    // Ray's own environment now has the venv's bin first
    const path = hostExec('nkenv2', `tr '\\0' '\\n' </proc/${repaired.split('\n')[0]}/environ | grep ^PATH=`).stdout;
    expect(path).toMatch(new RegExp(`^PATH=${VENV}/bin:`));
    const after = await cli(['plan', '--json'], file);
    expect(after.code, out(after)).toBe(0);
    expect(after.json!.changes).toBe(0);
    expect(after.json!.plan.map((p) => p.action)).toEqual(['keep', 'keep']);
    await cli(['stop'], file);
  });

  it("an environment the operator manages is reported, never changed; a job's python is Ray's despite a decoy first on PATH", async () => {
    const file = cfg(
      'operator.yaml',
      `ray_spec:
  cluster_name: e2e-operator
  ray_version: "2.60.0"
  python: /opt/nokube-venv/bin/python
  install:
    find_links: ${LINKS}
    packages: [tabulate==0.9.0]
nodes:
  - ssh_url: "${testHost('nkdecoy', info).ip}:22"
    name: decoy-head
    role: head
    ray_config: {port: 10001, num_cpus: 1, object_store_memory: 100000000}
    storage: {type: local, path: /opt/nokube/data/ray/decoy}
`,
    );
    const plan = await cli(['plan'], file);
    expect(plan.code, out(plan)).toBe(0);
    expect(out(plan)).toMatch(
      /decoy-head: its Python environment \(\/opt\/nokube-venv\/bin\/python\) is managed outside nokube, which installs nothing there; it differs from ray_spec\.install: tabulate missing/,
    );
    const r = await cli(['start'], file);
    expect(r.code, out(r)).toBe(0);
    expect(out(r)).not.toMatch(/installing/);
    expect(hostExec('nkdecoy', '/opt/nokube-venv/bin/python -c "import tabulate"').code).not.toBe(0);
    const status = await cli(['status'], file);
    expect(status.code).toBe(1);
    expect(out(status)).toMatch(
      /decoy-head: unhealthy environment: tabulate missing \(wanted 0\.9\.0\) \(managed outside nokube/,
    );

    const job = await cli(
      ['job', 'submit', '--', 'python', '-c', 'import sys, ray; print("job python", sys.executable, ray.__version__)'],
      file,
    );
    expect(job.code, out(job)).toBe(0);
    expect(out(job)).toContain('job python /opt/nokube-venv/bin/python 2.60.0');
    await cli(['stop'], file);
  });
});
