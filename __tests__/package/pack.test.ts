// What `npm pack` puts in the published package (read from `npm pack --dry-run --json`): the CLI's
// bundle, the Python it uploads to the nodes and nothing else: no sources, tests, dev files or the
// Action's bundle, and no dependency for `npm install -g` to fetch. The README says its size.
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const REPO = resolve(__dirname, '..', '..');

interface PackReport {
  name: string;
  version: string;
  size: number;
  unpackedSize: number;
  entryCount: number;
  files: { path: string; size: number; mode: number }[];
}

interface PackageJson {
  name: string;
  private?: boolean;
  bin: Record<string, string>;
  files: string[];
  engines: { node: string };
  scripts: Record<string, string>;
  [field: string]: unknown;
}

const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as PackageJson;

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name)) : [relative(REPO, join(dir, e.name))],
  );
}

describe('the npm package', () => {
  let pack: PackReport;
  let paths: string[];
  beforeAll(() => {
    const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: REPO, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    pack = (JSON.parse(r.stdout) as PackReport[])[0];
    paths = pack.files.map((f) => f.path).sort();
  });

  it('holds the CLI bundle, its entry and the third-party licenses of what it bundles', () => {
    expect(paths).toEqual(expect.arrayContaining(['dist/cli/index.js', 'dist/cli/cli.js', 'dist/cli/licenses.txt']));
    expect(Object.values(pkg.bin)).toEqual(['dist/cli/index.js']);
    expect(Object.keys(pkg.bin)).toEqual(['nokube']);
    expect(readFileSync(join(REPO, 'dist/cli/index.js'), 'utf8')).toMatch(/^#!\/usr\/bin\/env node\n/);
  });

  it('holds every file the bundle step puts in dist/remote_lib (what the CLI uploads to the nodes)', () => {
    const remote = filesUnder(join(REPO, 'dist', 'remote_lib'));
    expect(remote.some((p) => p.endsWith('.py'))).toBe(true);
    expect(paths).toEqual(expect.arrayContaining(remote));
  });

  it('holds nothing else: no sources, tests, dev files, Action bundle or repository remote_lib/', () => {
    const allowed = (p: string) =>
      p === 'package.json' || p === 'README.md' || p.startsWith('dist/cli/') || p.startsWith('dist/remote_lib/');
    expect(paths.filter((p) => !allowed(p))).toEqual([]);
    const devFiles = paths.filter((p) =>
      /(^|\/)(__tests__|tests?|__pycache__|node_modules)\/|\.(ts|mts|map|pyc)$|(^|\/)test_[^/]*\.py$|\.test\./.test(p),
    );
    expect(devFiles).toEqual([]);
  });

  it('installs with nothing to fetch and no build step (also from the git URL)', () => {
    expect(pkg.private).toBeUndefined();
    for (const field of ['dependencies', 'optionalDependencies', 'peerDependencies', 'bundleDependencies']) {
      expect(pkg[field], field).toBeUndefined();
    }
    // Any of these makes npm run `npm install` with every dev dependency in a git checkout before
    // packing it (pacote's git fetcher); dist/ is committed, so a git install needs none of them.
    const prepares = ['prepare', 'prepack', 'build', 'preinstall', 'install', 'postinstall'];
    expect(Object.keys(pkg.scripts).filter((s) => prepares.includes(s))).toEqual([]);
    expect(pkg.engines.node).toBe('>=20');
  });

  it('passes npm publish --dry-run (offline: the package as npm checks it, nothing sent)', () => {
    const r = spawnSync('npm', ['publish', '--dry-run', '--offline', '--ignore-scripts'], {
      cwd: REPO,
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`+ ${pkg.name}@${pack.version}`);
    expect(r.stderr).toContain('with tag latest and public access (dry-run)');
  });

  it('is the size the README says, within a quarter', () => {
    const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
    const said = /about (\d+) kB to\s+download, ([\d.]+) MB installed/.exec(readme);
    expect(said, 'README: "about N kB to download, N.N MB installed"').not.toBeNull();
    const packedKb = pack.size / 1000;
    const unpackedMb = pack.unpackedSize / 1e6;
    expect(Math.abs(Number(said![1]) - packedKb) / packedKb, `packed ${packedKb} kB`).toBeLessThan(0.25);
    expect(Math.abs(Number(said![2]) - unpackedMb) / unpackedMb, `installed ${unpackedMb} MB`).toBeLessThan(0.25);
  });

  it("the README's CLI section starts with the install line of this package, and gives the git URL form", () => {
    const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('\n## The CLI\n'));
    const firstBlock = /```\w*\n([\s\S]*?)```/.exec(section)![1];
    expect(firstBlock.split('\n')[0]).toMatch(new RegExp(`^npm install -g ${pkg.name.replace('/', '\\/')}(\\s|$)`));
    expect(section).toContain('npm install -g github:nokube/ray-deploy');
  });
});

describe('the libraries the bundle holds', () => {
  it("are every package src/ imports, each a devDependency and in Dependabot's bundled group", () => {
    const imported = new Set<string>();
    for (const file of filesUnder(join(REPO, 'src')).filter((p) => p.endsWith('.ts'))) {
      for (const m of readFileSync(join(REPO, file), 'utf8').matchAll(/from '([^.'][^']*)'/g)) {
        if (m[1].startsWith('node:')) continue;
        imported.add(m[1].startsWith('@') ? m[1].split('/').slice(0, 2).join('/') : m[1].split('/')[0]);
      }
    }
    const devDependencies = Object.keys(pkg.devDependencies as Record<string, string>);
    expect([...imported].filter((name) => !devDependencies.includes(name))).toEqual([]);
    const dependabot = parse(readFileSync(join(REPO, '.github', 'dependabot.yml'), 'utf8')) as {
      updates: {
        'package-ecosystem': string;
        groups: Record<string, { patterns: string[]; 'exclude-patterns'?: string[] }>;
      }[];
    };
    const groups = dependabot.updates.find((u) => u['package-ecosystem'] === 'npm')!.groups;
    const inGroup = (name: string, patterns: string[]) =>
      patterns.some((p) => p === name || (p.endsWith('/*') && name.startsWith(p.slice(0, -1))));
    for (const name of imported) expect(inGroup(name, groups.bundled.patterns), name).toBe(true);
    expect(groups.toolchain['exclude-patterns']).toEqual(groups.bundled.patterns);
  });
});
