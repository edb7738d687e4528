// The example workflows and the project's CI: valid YAML that uses only inputs action.yml declares,
// with the permissions and concurrency the SPEC asks for.
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const REPO = resolve(__dirname, '..', '..');
const inputs = Object.keys((parse(readFileSync(join(REPO, 'action.yml'), 'utf8')) as { inputs: object }).inputs);

interface Step {
  uses?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
  run?: string;
}
interface Workflow {
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  concurrency?: { group: string; 'cancel-in-progress': boolean };
  jobs: Record<string, { steps: Step[]; permissions?: Record<string, string> }>;
}

const load = (path: string) => parse(readFileSync(join(REPO, path), 'utf8')) as Workflow;
const actionSteps = (wf: Workflow, uses: string) =>
  Object.values(wf.jobs).flatMap((j) => j.steps.filter((s) => s.uses === uses));

describe('example workflows', () => {
  const examples = readdirSync(join(REPO, 'examples', 'workflows')).filter((f) => f.endsWith('.yml'));

  it('are the five uses of the SPEC', () => {
    expect(examples.sort()).toEqual([
      'deploy-and-smoke-test.yml',
      'deploy.yml',
      'pr-plan.yml',
      'status.yml',
      'teardown.yml',
    ]);
  });

  it('deploy-and-smoke-test: start, then a job from the working dir, in the deploy group', () => {
    const wf = load('examples/workflows/deploy-and-smoke-test.yml');
    const [start, job] = actionSteps(wf, 'nokube/ray-deploy@v1');
    expect(start.with?.command).toBe('start');
    expect(job.with).toMatchObject({ command: 'job', 'working-directory': 'smoke', entrypoint: 'python hostnames.py' });
    expect(wf.concurrency).toEqual(load('examples/workflows/deploy.yml').concurrency);
  });

  it.each(examples)('%s uses nokube/ray-deploy@v1 with declared inputs only', (file) => {
    const wf = load(join('examples', 'workflows', file));
    const steps = actionSteps(wf, 'nokube/ray-deploy@v1');
    expect(steps.length).toBeGreaterThan(0);
    for (const step of steps) for (const name of Object.keys(step.with ?? {})) expect(inputs).toContain(name);
    // Outputs reach shell scripts through env, never spliced into the script.
    for (const job of Object.values(wf.jobs)) for (const s of job.steps) expect(s.run ?? '').not.toContain('${{');
  });

  it('deploy: start on pushes to main touching the config, one at a time, never cancelled', () => {
    const wf = load('examples/workflows/deploy.yml');
    expect(wf.on.push).toEqual({ branches: ['main'], paths: ['ray-config.yaml'] });
    expect(wf.concurrency?.['cancel-in-progress']).toBe(false);
    expect(actionSteps(wf, 'nokube/ray-deploy@v1')[0].with?.command).toBe('start');
    expect(actionSteps(wf, 'nokube/ray-deploy@v1')[0].env?.RAY_PROD_PASSWORD).toBe('${{ secrets.RAY_PROD_PASSWORD }}');
    expect(load('examples/workflows/teardown.yml').concurrency?.group).toBe(wf.concurrency?.group);
  });

  it('pr-plan: plan on pull requests touching the config, allowed to comment', () => {
    const wf = load('examples/workflows/pr-plan.yml');
    expect(wf.on.pull_request).toEqual({ paths: ['ray-config.yaml'] });
    expect(wf.permissions).toEqual({ contents: 'read', 'pull-requests': 'write' });
    expect(actionSteps(wf, 'nokube/ray-deploy@v1')[0].with?.command).toBe('plan');
  });

  it('status: cron and manual; teardown: manual with a confirmation', () => {
    const status = load('examples/workflows/status.yml');
    expect(Object.keys(status.on).sort()).toEqual(['schedule', 'workflow_dispatch']);
    expect(actionSteps(status, 'nokube/ray-deploy@v1')[0].with?.command).toBe('status');
    const teardown = load('examples/workflows/teardown.yml');
    expect(Object.keys(teardown.on)).toEqual(['workflow_dispatch']);
    expect(actionSteps(teardown, 'nokube/ray-deploy@v1')[0].with?.command).toBe('stop');
    expect(JSON.stringify(teardown.on)).toContain('confirm');
  });
});

describe('the project CI', () => {
  it('runs the action itself (uses: ./) on the design note examples', () => {
    const ci = load('.github/workflows/ci.yml');
    const own = actionSteps(ci, './');
    expect(own.map((s) => s.with?.config)).toEqual(
      expect.arrayContaining(['examples/remote-ray-config.yaml', 'ray-template.yaml']),
    );
    for (const step of own) for (const name of Object.keys(step.with ?? {})) expect(inputs).toContain(name);
  });
});
