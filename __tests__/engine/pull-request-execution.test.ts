// A live plan on a pull request runs the base branch's interpreter, Ray venv and storage paths on the
// nodes, never the pull request's own; the note names both.
import { describe, expect, it } from 'vitest';
import type { NodeSpec } from '../../src/config/types';
import { baseExecution, ownExecution } from '../../src/engine/decisions/pull-request-execution';
import { cluster, node } from './fixtures';

const stored = (n: NodeSpec, path?: string): NodeSpec => ({
  ...n,
  storage: { type: 'local', ...(path ? { path } : {}) },
});

describe('what a pull request’s live plan runs on the nodes', () => {
  const base = cluster(
    [stored(node('head', 'head', '10.0.0.1'), '/srv/ray/head'), stored(node('w1', 'worker', '10.0.0.2'))],
    {
      python: '/opt/venv/bin/python',
    },
  );

  it("runs the base's interpreter and storage, not the pull request's, and says what the pull request asks for", () => {
    const pr = cluster(
      [
        stored(node('head', 'head', '10.0.0.1'), '/home/attacker/planted'),
        stored(node('w1', 'worker', '10.0.0.2')),
        stored(node('w2', 'worker', '10.0.0.3'), '/tmp/new'),
      ],
      { python: '/tmp/evil.sh' },
    );
    const review = baseExecution(pr, base);
    expect(review.nodes.get('head')).toEqual({
      python: '/opt/venv/bin/python',
      rayVenv: undefined,
      storage: '/srv/ray/head',
    });
    expect(review.nodes.get('w1')).toEqual({ python: '/opt/venv/bin/python', rayVenv: undefined, storage: undefined });
    // a node the base lacks: the default storage (~/.nokube/<cluster>), never the pull request's path
    expect(review.nodes.get('w2')).toEqual({ python: '/opt/venv/bin/python', rayVenv: undefined, storage: undefined });
    expect(review.note).toMatch(
      /^the live look ran the base branch's interpreter and storage on the nodes, not this pull request's/,
    );
    expect(review.note).toContain('ray_spec.python /opt/venv/bin/python (this pull request: /tmp/evil.sh)');
    expect(review.note).toContain('head storage.path /srv/ray/head (this pull request: /home/attacker/planted)');
    expect(review.note).toContain('w2 storage.path (default) (this pull request: /tmp/new)');
    expect(review.note).not.toContain('w1');
  });

  it("the base's Ray venv (ray_spec.install), not one the pull request turns on", () => {
    const withVenv = { ...base, install: { extras: ['default'] }, rayVersion: '2.60.0' } as typeof base;
    const pr = { ...base, install: { extras: ['default'] }, rayVersion: '2.61.0' } as typeof base;
    expect(baseExecution(pr, withVenv).nodes.get('head')!.rayVenv).toBe('2.60.0');
    expect(baseExecution(pr, withVenv).note).toContain('ray_spec.install Ray 2.60.0 (this pull request: Ray 2.61.0)');
    expect(baseExecution(pr, base).nodes.get('head')!.rayVenv).toBeUndefined();
    expect(baseExecution(pr, base).note).toContain('ray_spec.install (none) (this pull request: Ray 2.61.0)');
  });

  it('no note when the pull request changes none of it; the defaults when the base has no config', () => {
    expect(baseExecution(base, base).note).toBeUndefined();
    expect([...baseExecution(base, base).nodes.values()]).toEqual(base.nodes.map((n) => ownExecution(base, n)));
    const none = baseExecution(base, undefined);
    expect(none.nodes.get('head')).toEqual({ python: undefined, rayVenv: undefined, storage: undefined });
    expect(none.note).toMatch(
      /^the live look ran the default \(the base branch has no config\) interpreter and storage/,
    );
    expect(none.note).toContain('ray_spec.python (unset: python3) (this pull request: /opt/venv/bin/python)');
  });
});
