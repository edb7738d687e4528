// The README's first two commands, `make demo` and `make test`, as written: run as root they run
// directly (a fresh Debian machine has no sudo), otherwise make runs itself again through sudo.
// `make -n` shows what would run without running it; a stand-in `sudo` on PATH prints its arguments.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCliArgs } from '../../src/cli/args';
import { newcomerCommands, shellWords } from './newcomer';

const root = join(__dirname, '..', '..');
const isRoot = process.getuid?.() === 0;
const hasMake = spawnSync('make', ['--version']).status === 0;
const hasSetpriv = spawnSync('setpriv', ['--version']).status === 0;

/** Runs make in the repository, as root or (from root, with setpriv) as nobody. */
function make(args: string[], opts: { asNobody?: boolean; path?: string } = {}) {
  const env = { ...process.env, PATH: opts.path ?? process.env.PATH ?? '' };
  const cmd = opts.asNobody
    ? ['setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'make', '-C', root, ...args]]
    : ['make', ['-C', root, ...args]];
  const r = spawnSync(cmd[0] as string, cmd[1] as string[], { env, encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('the README', () => {
  it('starts with `make demo` and `make test`, never `sudo make`', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const firstBlock = /```bash\n([\s\S]*?)```/.exec(readme)![1];
    const commands = firstBlock.split('\n').filter((l) => l && !l.startsWith('#'));
    expect(commands).toEqual(['make demo', 'make test']);
    expect(readme).not.toMatch(/sudo make/);
  });
});

describe("the README's newcomer path (run against test hosts in __tests__/e2e/init.test.ts)", () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const commands = newcomerCommands(readme);

  it('is install, init, start, job, dashboard, in one short section', () => {
    expect(commands.map((c) => c.split(' ').slice(0, 3).join(' '))).toEqual([
      'npm install -g',
      'nokube ray init',
      'nokube ray start',
      'nokube ray job',
      'nokube ray dashboard',
    ]);
    const section = /## Your own machines, from a laptop\n([\s\S]*?)\n## /.exec(readme)![1];
    expect(section.split('\n').length).toBeLessThan(30);
  });

  it('installs this package by its name', () => {
    const { name } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string };
    expect(commands[0]).toBe(`npm install -g ${name}`);
  });

  it('uses only commands and flags the CLI has', () => {
    for (const line of commands.slice(1)) {
      const parsed = parseCliArgs(shellWords(line).slice(1));
      expect('settings' in parsed, line).toBe(true);
    }
  });
});

describe.skipIf(!hasMake || !isRoot || !hasSetpriv)('make demo and make test (needs root to switch users)', () => {
  const fakeSudoDir = mkdtempSync(join(tmpdir(), 'nokube-fake-sudo-'));
  writeFileSync(join(fakeSudoDir, 'sudo'), '#!/bin/sh\necho "SUDO $*"\n');
  chmodSync(join(fakeSudoDir, 'sudo'), 0o755);
  chmodSync(fakeSudoDir, 0o755);
  const withSudo = `${fakeSudoDir}:${process.env.PATH}`;
  const withoutSudo = (process.env.PATH ?? '')
    .split(':')
    .filter((d) => spawnSync('test', ['-x', join(d, 'sudo')]).status !== 0)
    .join(':');

  it('as root: runs the recipe itself, without sudo', () => {
    const r = make(['-n', 'demo'], { path: withSudo });
    expect(r.out).toContain('scripts/testhosts.sh up 3');
    expect(r.out).not.toContain('SUDO');
  });

  it('not root, sudo installed: runs the same goals again through sudo, keeping PATH', () => {
    for (const goal of [[], ['demo'], ['test'], ['lint', 'test']]) {
      const r = make(goal, { asNobody: true, path: withSudo });
      expect(r.status).toBe(0);
      const wanted = (goal.length ? goal : ['demo']).join(' ');
      expect(r.out).toContain(`SUDO -E env PATH=${withSudo} make --no-print-directory ${wanted}`);
      expect(r.out.match(/SUDO/g)).toHaveLength(1);
    }
  });

  it('not root, no sudo: make demo says it needs root; make test would still run the unit tests', () => {
    const demo = make(['demo'], { asNobody: true, path: withoutSudo });
    expect(demo.status).toBe(2);
    expect(demo.out).toContain('make demo needs root');
    const test = make(['-n', 'test'], { asNobody: true, path: withoutSudo });
    expect(test.out).toContain('scripts/run-tests.sh');
    expect(test.out).not.toContain('SUDO');
  });

  it('goals that do not need root never ask for sudo', () => {
    const r = make(['-n', 'lint'], { asNobody: true, path: withSudo });
    expect(r.out).toContain('npx eslint .');
    expect(r.out).not.toContain('SUDO');
  });
});
