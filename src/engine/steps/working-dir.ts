// A job's working directory, from this machine to the head: the files the user means (working-dir-files),
// checked against Ray's upload limit, then packed as one .tar.gz (Ray itself zips it on the head, with
// its own ignore rules, and uploads it to the cluster, so every node's tasks see it).
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { create } from 'tar';
import { selectWorkingDirFiles, type WorkingDirFiles } from './working-dir-files';

/** Ray 2.60 refuses a working_dir package of 512 MiB or more (GCS_STORAGE_MAX_SIZE, the gRPC limit). */
export const RAY_PACKAGE_LIMIT_BYTES = 512 * 1024 * 1024;

export class WorkingDirError extends Error {
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(message);
  }
}

export function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** The packed working dir and what went into it. */
export interface PackedWorkingDir extends WorkingDirFiles {
  archive: Buffer;
}

/** Checks `dir` (exists, a directory, under Ray's limit) and packs its chosen files; throws WorkingDirError. */
export async function packWorkingDir(dir: string, limit = RAY_PACKAGE_LIMIT_BYTES): Promise<PackedWorkingDir> {
  const abs = resolve(dir);
  let st;
  try {
    st = statSync(abs);
  } catch {
    throw new WorkingDirError(
      `working directory ${dir} does not exist`,
      'give --working-dir (the working-directory input) a directory on this machine',
    );
  }
  if (!st.isDirectory()) {
    throw new WorkingDirError(`working directory ${dir} is not a directory`, 'give a directory, not a file');
  }
  // Ray's limit is on its zip of the directory; our gzip of the same files is about that size
  const chunks: Buffer[] = [];
  let bytes = 0;
  const chosen = selectWorkingDirFiles(abs);
  if (!chosen.files.length) {
    throw new WorkingDirError(
      `working directory ${dir} has no file to upload${chosen.ignored ? ` (${chosen.ignored} ignored by .gitignore)` : ''}`,
      'give the directory your entrypoint needs; files its .gitignore excludes stay on this machine',
    );
  }
  const stream = create({ gzip: true, cwd: abs, portable: true, noDirRecurse: true }, chosen.files);
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    if (bytes >= limit) {
      throw new WorkingDirError(
        `working directory ${dir} packs to more than ${mib(limit)}: over Ray's upload limit for a working_dir (${mib(limit)}, compressed)`,
        'leave large files out (data, .git, .venv: move them to storage the nodes read) or give a remote URI (s3://, https://) as working_dir in --runtime-env-json',
      );
    }
    chunks.push(chunk);
  }
  return { ...chosen, archive: Buffer.concat(chunks) };
}
