// Bundles the two front ends with ncc into self-contained CommonJS files:
//   dist/index.js      the Action (action.yml: runs.main)
//   dist/cli/index.js  the `nokube` CLI (package.json: bin.nokube): runs dist/cli/cli.js, the bundle
// remote_lib/nokube_remote.py is joined again from its modules (remote_lib/src/nokube_remote/) and
// copied beside the bundles (dist/remote_lib) so both find it relative to themselves.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { joinRemoteLib, REMOTE_LIB_FILE } from './join-remote-lib.mjs';

const root = new URL('..', import.meta.url).pathname;
const ncc = join(root, 'node_modules', '.bin', 'ncc');
const dist = join(root, 'dist');

function bundle(entry, outDir) {
  execFileSync(ncc, ['build', entry, '-o', outDir, '--target', 'es2022', '--license', 'licenses.txt', '-q'], {
    cwd: root,
    stdio: 'inherit',
  });
}

// first the file that is uploaded and hashed; it is committed, so check-dist proves it matches its modules
writeFileSync(REMOTE_LIB_FILE, joinRemoteLib());
rmSync(dist, { recursive: true, force: true });
bundle('src/action/index.ts', dist);
bundle('src/cli/index.ts', join(dist, 'cli'));

// Native addons must never reach dist/: the bundle has to run on any runner.
function assertNoNative(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) assertNoNative(p);
    else if (name.endsWith('.node')) throw new Error(`native addon in dist: ${p}`);
  }
}
assertNoNative(dist);

// dist/cli/index.js is the entry: it runs the bundle (cli.js) with a V8 code cache (see the file)
const cli = join(dist, 'cli', 'index.js');
renameSync(cli, join(dist, 'cli', 'cli.js'));
cpSync(join(root, 'scripts', 'cli-compile-cache.cjs'), cli);
chmodSync(cli, 0o755);

mkdirSync(join(dist, 'remote_lib'), { recursive: true });
cpSync(REMOTE_LIB_FILE, join(dist, 'remote_lib', 'nokube_remote.py'));
