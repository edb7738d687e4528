// The cluster's packages judged per node (decisions/environment.ts) and the plan they make: a pin
// against Ray's is an error naming both, drift in the venv nokube manages is repaired (a restart only
// for a package Ray imports), drift in the operator's environment is a warning; a running Ray whose
// PATH finds another `python` first restarts (inspect.ts).
import { describe, expect, it } from 'vitest';
import { judgeEnvironment, withPackageDrift } from '../../src/engine/decisions/environment';
import { desiredSpec } from '../../src/engine/decisions/desired';
import { livePlan, type LiveNode } from '../../src/engine/decisions/plan-diff';
import { pythonPathDrift, unknownPythonPath } from '../../src/engine/steps/inspect';
import type { AppliedSpec, PackagesAnswer, ProbeAnswer } from '../../src/remote/types';
import { cluster, node } from './fixtures';

const c = cluster([node('head', 'head', '10.0.0.1'), node('w1', 'worker', '10.0.0.2')], {
  rayVersion: '2.60.0',
  install: {
    extras: ['default'],
    requirements: [{ name: 'toolz', version: '1.0.0', line: 'toolz==1.0.0' }],
    timeoutSec: 1800,
  },
});
const wanted = new Map<string, AppliedSpec>(c.nodes.map((n) => [n.name, desiredSpec(c, n, n.host, '10.0.0.1:6379')]));
const running = (): Map<string, LiveNode> =>
  new Map(
    c.nodes.map((n) => [
      n.name,
      { reachable: true, running: true, applied: wanted.get(n.name)!, rayVersion: '2.60.0', alive: true },
    ]),
  );
const answer = (over: Partial<PackagesAnswer>): PackagesAnswer => ({
  ok: true,
  ray: true,
  python: '/s/venvs/ray-2.60.0/bin/python',
  ray_version: '2.60.0',
  managed: true,
  drift: [],
  conflicts: [],
  ray_deps: ['requests', 'click'],
  ...over,
});

describe('the cluster packages on each node', () => {
  it("a pin outside Ray's range is an error naming the package, the version and Ray's pin", () => {
    const j = judgeEnvironment(
      c,
      new Map([['head', answer({ conflicts: [{ name: 'click', version: '6.7', ray_needs: '>=7.0', by: 'ray' }] })]]),
    );
    expect(j.errors).toHaveLength(1);
    expect(j.errors[0]).toMatchObject({
      node: 'head',
      message: 'click==6.7 in ray_spec.install conflicts with Ray 2.60.0: ray needs click>=7.0',
    });
  });

  it('another version of a package Ray does not import: kept running, the package listed', () => {
    const j = judgeEnvironment(
      c,
      new Map([['w1', answer({ drift: [{ name: 'toolz', want: '1.0.0', have: '0.12.1', state: 'version' }] })]]),
    );
    const plan = livePlan(c, wanted, withPackageDrift(running(), j));
    const w1 = plan.find((p) => p.node === 'w1')!;
    expect(w1.action).toBe('keep');
    expect(w1.drift).toEqual([{ field: 'package toolz', from: '0.12.1', to: '1.0.0' }]);
    expect(j.warnings).toEqual([]);
  });

  it("another version of a package Ray imports (requests): that node's Ray restarts", () => {
    const j = judgeEnvironment(
      c,
      new Map([['w1', answer({ drift: [{ name: 'Requests', want: '2.31.0', have: '2.34.2', state: 'version' }] })]]),
    );
    const w1 = livePlan(c, wanted, withPackageDrift(running(), j)).find((p) => p.node === 'w1')!;
    expect(w1.action).toBe('restart');
    expect(w1.drift).toContainEqual({ field: 'package Requests', from: '2.34.2', to: '2.31.0' });
  });

  it("the operator's environment: a warning, no drift in the plan, never a restart", () => {
    const j = judgeEnvironment(
      c,
      new Map([
        [
          'head',
          answer({
            managed: false,
            python: '/opt/venv/bin/python',
            drift: [{ name: 'toolz', want: '1.0.0', have: null, state: 'missing' }],
          }),
        ],
      ]),
    );
    expect(j.warnings).toEqual([
      'head: its Python environment (/opt/venv/bin/python) is managed outside nokube, which installs nothing there; it differs from ray_spec.install: toolz missing (wanted 1.0.0)',
    ]);
    const head = livePlan(c, wanted, withPackageDrift(running(), j)).find((p) => p.node === 'head')!;
    expect(head).toMatchObject({ action: 'keep', drift: [] });
  });
});

describe("a job's python is Ray's", () => {
  const probe = (first: ProbeAnswer['running_python_first']) =>
    ({ ok: true, running: true, running_python_first: first }) as ProbeAnswer;

  it('a running Ray whose PATH finds another python first is drift that restarts it', () => {
    const d = pythonPathDrift(
      probe({ known: true, first: false, python: '/v/bin/python', found: '/home/u/.pyenv/shims/python' }),
    )!;
    expect(d).toEqual({ field: "python on Ray's PATH", from: '/home/u/.pyenv/shims/python', to: '/v/bin/python' });
    const live = running();
    live.get('w1')!.pathDrift = d;
    expect(livePlan(c, wanted, live).find((p) => p.node === 'w1')!.action).toBe('restart');
    expect(
      pythonPathDrift(probe({ known: true, first: true, python: '/v/bin/python', found: '/v/bin/python' })),
    ).toBeUndefined();
  });

  it('one that cannot be told is a warning saying unknown', () => {
    expect(unknownPythonPath(new Map([['w1', probe({ known: false })]]))).toEqual([
      "w1: unknown whether its running Ray has its interpreter first on PATH (started by an older nokube or by hand): a job's `python` there may not be Ray's",
    ]);
  });
});
