// The README's Workflows section shows the four example workflows in full: each yaml block must be
// byte for byte the file under examples/workflows/ that the line above it links to.
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const REPO = resolve(__dirname, '..', '..');

function workflowsRegion(): string {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  const start = readme.indexOf('<!-- workflows:start -->');
  const end = readme.indexOf('<!-- workflows:end -->');
  expect(start, 'README.md has <!-- workflows:start -->').toBeGreaterThan(-1);
  expect(end, 'README.md has <!-- workflows:end --> after the start marker').toBeGreaterThan(start);
  return readme.slice(start, end);
}

/** Each ```yaml block of the region with the examples/workflows/ file named last before it. */
function blocks(region: string): { file: string | undefined; yaml: string }[] {
  const out: { file: string | undefined; yaml: string }[] = [];
  const fence = /```yaml\n([\s\S]*?)```/g;
  let from = 0;
  for (let m = fence.exec(region); m; m = fence.exec(region)) {
    const before = region.slice(from, m.index);
    const files = [...before.matchAll(/examples\/workflows\/([\w.-]+\.yml)/g)].map((x) => x[1]);
    out.push({ file: files.at(-1), yaml: m[1] });
    from = m.index + m[0].length;
  }
  return out;
}

describe('README workflows section', () => {
  const examples = readdirSync(join(REPO, 'examples', 'workflows'))
    .filter((f) => f.endsWith('.yml'))
    .sort();

  it('shows every example workflow once, in the order deploy, plan, status, teardown, smoke test', () => {
    expect(blocks(workflowsRegion()).map((b) => b.file)).toEqual([
      'deploy.yml',
      'pr-plan.yml',
      'status.yml',
      'teardown.yml',
      'deploy-and-smoke-test.yml',
    ]);
    expect(examples).toEqual(['deploy-and-smoke-test.yml', 'deploy.yml', 'pr-plan.yml', 'status.yml', 'teardown.yml']);
  });

  it('each block equals its file exactly', () => {
    for (const { file, yaml } of blocks(workflowsRegion())) {
      expect(yaml, `README block for examples/workflows/${file}`).toBe(
        readFileSync(join(REPO, 'examples', 'workflows', file!), 'utf8'),
      );
    }
  });
});
