#!/usr/bin/env node
// The `nokube` CLI's entry (dist/cli/index.js): runs the bundle (dist/cli/cli.js) with a V8 code
// cache, so a run does not compile the 1.8 MB bundle again. Compiling it is most of the CLI's own
// start-up (≈ 80 ms of CPU of ≈ 150 ms on an idle machine, several times that on a loaded one), and
// every `start` / `status` pays it. Node 20 has no built-in compile cache (module.enableCompileCache
// is Node 22), so this does what it does: one cache file per command (the functions a command runs
// are compiled into its cache), in $XDG_CACHE_HOME/nokube or ~/.cache/nokube, written once, after
// the first run of that command with this bundle and this Node. V8 checks the cache against the
// source and its own version and flags, and compiles as usual when it does not fit; any trouble with
// the cache directory is ignored. NOKUBE_COMPILE_CACHE=0 turns it off.
/* eslint-disable @typescript-eslint/no-require-imports -- plain CommonJS, run as is (not bundled) */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const os = require('node:os');
const vm = require('node:vm');
const Module = require('node:module');

const bundle = path.join(__dirname, 'cli.js');

function cacheFile() {
  if (process.env.NOKUBE_COMPILE_CACHE === '0') return undefined;
  try {
    const st = fs.statSync(bundle);
    const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
    // the command ("ray-start", "validate", ...): what its run compiled goes into its own cache
    const words = process.argv
      .slice(2)
      .filter((a) => !a.startsWith('-'))
      .slice(0, 2);
    const command =
      words
        .join('-')
        .replace(/[^a-z-]/g, '')
        .slice(0, 30) || 'none';
    const build = `cli-${st.size}-${Math.round(st.mtimeMs)}-${process.version}-${process.arch}-`;
    return { dir: path.join(base, 'nokube'), build, name: `${build}${command}.v8` };
  } catch {
    return undefined;
  }
}

const cache = cacheFile();
const file = cache && path.join(cache.dir, cache.name);
let cached;
if (file) {
  try {
    cached = fs.readFileSync(file);
  } catch {
    cached = undefined;
  }
}
const source = fs.readFileSync(bundle, 'utf8').replace(/^#!.*/, '');
const script = new vm.Script(Module.wrap(source), { filename: bundle, cachedData: cached });
if (file && (!cached || script.cachedDataRejected)) {
  process.once('exit', () => {
    try {
      fs.mkdirSync(cache.dir, { recursive: true, mode: 0o700 });
      // caches of other bundles or Node versions are of no use any more
      for (const old of fs.readdirSync(cache.dir)) {
        if (/^cli-.*\.v8$/.test(old) && !old.startsWith(cache.build))
          fs.rmSync(path.join(cache.dir, old), { force: true });
      }
      const tmp = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, script.createCachedData(), { mode: 0o600 });
      fs.renameSync(tmp, file);
    } catch {
      // no cache this time (read-only home, full disk): the next run compiles again
    }
  });
}
const mod = new Module(bundle, module);
mod.filename = bundle;
mod.paths = Module._nodeModulePaths(__dirname);
script.runInThisContext()(mod.exports, Module.createRequire(bundle), mod, bundle, __dirname);
