// The local package index of Ray wheels (scripts/prepare-wheels.sh, run by setup-test-env.sh, cached
// outside the repo) served on the test bridge: the test hosts reach no other network, so a suite
// whose nodes get Ray by `ray_spec.install` points `index_url` here.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const WHEELS = process.env.NOKUBE_WHEELS ?? '/var/cache/nokube-wheels';
export const INDEX = 'http://10.88.0.1:8099/simple/';

/** Serves the index at INDEX until the returned process is killed; throws when it is missing or does not come up. */
export async function serveWheelIndex(): Promise<ChildProcess> {
  if (!existsSync(join(WHEELS, 'simple', 'ray'))) {
    throw new Error(`${WHEELS}/simple is missing: run scripts/setup-test-env.sh (it calls scripts/prepare-wheels.sh)`);
  }
  const index = spawn('python3', ['-m', 'http.server', '8099', '--bind', '10.88.0.1', '--directory', WHEELS], {
    stdio: 'ignore',
  });
  for (let i = 0; i < 50; i++) {
    const ok = await fetch(INDEX + 'ray/').then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return index;
    await new Promise((r) => setTimeout(r, 200));
  }
  index.kill();
  throw new Error(`the package index at ${INDEX} did not come up`);
}
