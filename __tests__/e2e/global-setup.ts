/**
 * vitest globalSetup of the e2e project: as root, installs what is missing (scripts/setup-test-env.sh)
 * and brings up the test hosts described in ./hosts.ts (nkh1..nkh4 with Ray, nkbare without).
 * Teardown runs `testhosts.sh down` unless NOKUBE_KEEP_HOSTS=1.
 * Not root: nothing happens here and the e2e tests skip loudly (hosts.ts); with CI=true they fail.
 */
import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// Not imported from ./hosts: that module decides at import time whether hosts.json exists.
const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const TESTHOSTS_SH = resolve(REPO_ROOT, 'scripts', 'testhosts.sh');

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): void {
  const r = spawnSync(cmd, args, { stdio: 'inherit', env, timeout: 1_800_000 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed with exit code ${r.status}`);
}

export default function setup(): (() => void) | undefined {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot || process.platform !== 'linux' || process.env.NOKUBE_SKIP_E2E === '1') {
    const why = !isRoot ? 'not root' : process.platform !== 'linux' ? 'not Linux' : 'NOKUBE_SKIP_E2E=1';
    if (process.env.CI === 'true') throw new Error(`E2E TESTS CANNOT RUN IN CI: ${why}`);
    console.warn(`\n*** e2e global setup: ${why}; test hosts not started, e2e tests will be SKIPPED ***\n`);
    return undefined;
  }
  run(resolve(REPO_ROOT, 'scripts', 'setup-test-env.sh'), []);
  const n = process.env.NOKUBE_TEST_HOSTS ?? '4';
  run(TESTHOSTS_SH, ['up', n, '--no-ray', 'nkbare']);
  return () => {
    if (process.env.NOKUBE_KEEP_HOSTS === '1') {
      console.warn('NOKUBE_KEEP_HOSTS=1: test hosts left up (scripts/testhosts.sh down removes them)');
      return;
    }
    run(TESTHOSTS_SH, ['down']);
  };
}
