// Where remote_lib is: beside the bundle (dist/remote_lib), or in the repository when run from source.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export function findRemoteLibDir(from: string): string {
  const candidates = [join(from, 'remote_lib'), join(from, '..', 'remote_lib'), join(from, '..', '..', 'remote_lib')];
  for (const dir of candidates) {
    if (existsSync(join(dir, 'nokube_remote.py'))) return resolve(dir);
  }
  throw new Error(`remote_lib/nokube_remote.py not found near ${from}: the installation is incomplete`);
}
