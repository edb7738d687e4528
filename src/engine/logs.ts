// `logs`: read-only. Every chosen node packs its logs (Ray's session logs, remote_lib's own, a facts
// file) into one bounded archive; each is fetched over the node's SSH connection, in parallel, into
// `<output>/<node>/`, or, for a `.tar.gz` output, into one archive with a directory per node.
import { randomBytes } from 'node:crypto';
import {
  accessSync,
  closeSync,
  constants,
  createWriteStream,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar';
import { BundleError, extractBundle } from './steps/log-bundle';
import type { Diagnostic, NodeSpec } from '../config/types';
import { formatBytes } from '../words/bytes';
import { mapLimit } from './steps/concurrency';
import { NODE_LIMITS } from './decisions/defaults';
import { chooseNodes, UnknownNodeError, unknownNodeError } from './steps/named-nodes';
import { nodeError, type ClusterSession, type NodeHandle, type SessionOptions } from './steps/session';
import type { LogsRequest, LogsResult, NodeLogs, RunError } from './types';

export type { LogsRequest, LogsResult, NodeLogs } from './types';

/** What is accepted from a node, compressed and inflated: its budget, plus room for the tar headers and facts. */
export function bundleCapBytes(maxBytesPerNode?: number): number {
  const budget = maxBytesPerNode ?? NODE_LIMITS.logsMaxBytes;
  return Math.ceil(budget * 1.25) + 4 * 1024 * 1024;
}

/** The name of the index written next to the nodes' directories. */
export const LOGS_INDEX = 'nokube-logs.json';

export function isArchivePath(path: string): boolean {
  return /\.(tar\.gz|tgz)$/i.test(path);
}

/** What `logs` returns before any node is looked at (an invalid config leaves it so). */
export function emptyLogsResult(configPath: string, request: LogsRequest, diagnostics: Diagnostic[]): LogsResult {
  return {
    ok: false,
    invalid: false,
    configPath,
    archive: isArchivePath(request.output),
    nodes: [],
    diagnostics,
    errors: [],
    timings: [],
  };
}

/** The story of `logs` (the door closes the session). `started`: when the run began (its total time). */
export async function collectLogs(
  session: ClusterSession<SessionOptions>,
  result: LogsResult,
  request: LogsRequest,
  started: number,
): Promise<LogsResult> {
  const { cluster, options } = session;
  result.clusterName = cluster.clusterName;
  let chosen: NodeSpec[];
  try {
    chosen = chooseNodes(cluster, request.nodes, cluster.nodes);
  } catch (err) {
    if (!(err instanceof UnknownNodeError)) throw err;
    result.invalid = true;
    result.errors.push(unknownNodeError(err));
    return result;
  }
  const output = resolve(request.output);
  const outputProblem = checkOutput(output, result.archive);
  if (outputProblem) {
    result.invalid = true;
    result.errors.push(outputProblem);
    return result;
  }
  result.output = output;

  const staging = result.archive ? mkdtempSync(join(tmpdir(), 'nokube-logs-')) : output;
  const t0 = Date.now();
  try {
    const handles = await session.connect(chosen);
    result.timings.push({ phase: 'connect', ms: Date.now() - t0 });
    const t1 = Date.now();
    result.nodes = handles.map((h) => emptyNodeLogs(h.node));
    await mapLimit(handles, options.concurrency, (h, i) => fetchNode(h, result.nodes[i], request, staging, options));
    result.timings.push({ phase: 'collect', ms: Date.now() - t1 });
    await writeFile(join(staging, LOGS_INDEX), JSON.stringify(logsIndex(result, request), null, 2) + '\n');
    if (result.archive) {
      const t2 = Date.now();
      await packArchive(staging, output, [...result.nodes.filter((n) => n.ok).map((n) => n.name), LOGS_INDEX]);
      result.timings.push({ phase: 'archive', ms: Date.now() - t2 });
    }
  } catch (err) {
    result.errors.push({
      message: `cannot write the logs to ${output}: ${(err as Error).message}`,
      hint: 'check the disk space and permissions of the output path',
    });
  } finally {
    if (result.archive) rmSync(staging, { recursive: true, force: true });
  }
  for (const n of result.nodes) if (n.error) result.errors.push(n.error);
  result.ok = result.errors.length === 0;
  result.timings.push({ phase: 'total', ms: Date.now() - started });
  return result;
}

/** Why the output cannot be written, before any node is contacted. */
function checkOutput(output: string, archive: boolean): RunError | undefined {
  const problem = (message: string, hint: string): RunError => ({ message: `--output ${output}: ${message}`, hint });
  if (archive) {
    const dir = dirname(output);
    if (!existsSync(dir)) return problem(`the directory ${dir} does not exist`, `create it first (mkdir -p ${dir})`);
    if (existsSync(output) && statSync(output).isDirectory())
      return problem('is a directory', 'give a file name ending in .tar.gz');
    try {
      accessSync(dir, constants.W_OK);
    } catch {
      return problem(`the directory ${dir} is not writable`, 'choose a path you may write to');
    }
    return undefined;
  }
  if (existsSync(output)) {
    const st = lstatSync(output);
    if (!st.isDirectory())
      return problem('exists and is not a directory', 'give a new directory, or a path ending in .tar.gz');
    // someone else's empty directory would let its owner swap what is written into it
    if (typeof process.getuid === 'function' && st.uid !== process.getuid())
      return problem(`belongs to another user (uid ${st.uid})`, 'give a new directory, or one of your own');
    if (readdirSync(output).length)
      return problem('is not empty', 'give a new or empty directory (earlier logs are not overwritten)');
  }
  try {
    mkdirSync(output, { recursive: true });
    accessSync(output, constants.W_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    return problem(`cannot create or write the directory (${code})`, 'choose a path you may write to');
  }
  return undefined;
}

function emptyNodeLogs(node: NodeSpec): NodeLogs {
  return {
    name: node.name,
    role: node.role,
    host: node.host,
    ok: false,
    files: [],
    bytes: 0,
    cut: [],
    omitted: [],
    keyLines: [],
  };
}

/** Fills `out` with one node's bundle (extracted under `into/<node>/`); failures are kept on it, never thrown. */
async function fetchNode(
  h: NodeHandle,
  out: NodeLogs,
  request: LogsRequest,
  into: string,
  options: SessionOptions,
): Promise<void> {
  const { node } = h;
  const { reporter } = options;
  if (!h.lib) {
    out.error = h.error ?? { node: node.name, host: node.sshUrl, message: 'not connected' };
    return;
  }
  const t0 = Date.now();
  try {
    const cap = bundleCapBytes(request.maxBytesPerNode);
    const { answer, bundle } = await h.lib.logs(
      {
        role: node.role,
        python: null,
        since_sec: request.sinceSec ?? null,
        max_bytes: request.maxBytesPerNode ?? NODE_LIMITS.logsMaxBytes,
        file_max_bytes: NODE_LIMITS.logsFileMaxBytes,
      },
      cap,
    );
    if (!answer.ok || !bundle)
      throw Object.assign(new Error(answer.error ?? 'remote_lib logs failed'), { hint: answer.hint });
    // the node may be hostile: files and directories only, modes masked, capped, staged privately
    await extractBundle(bundle, into, node.name, cap).catch((err: unknown) => {
      if (!(err instanceof BundleError)) throw err;
      throw Object.assign(new Error(`its log bundle was refused: ${err.message}`), {
        hint: 'nothing of it was kept; look at the node itself (it may be compromised)',
      });
    });
    Object.assign(out, {
      ok: true,
      files: answer.files,
      bytes: answer.bytes,
      cut: answer.cut,
      omitted: answer.omitted,
      keyLines: answer.key_lines ?? [],
      session: answer.session ?? null,
    });
    out.elapsedMs = Date.now() - t0;
    const cut = answer.cut.length + answer.omitted.length;
    reporter.node(
      node.name,
      `${answer.files.length} files, ${formatBytes(answer.bytes)} of logs (${formatBytes(bundle.length)} compressed)` +
        (answer.session ? '' : ', no Ray session on this node') +
        (cut
          ? `; cut: ${answer.cut.length} files kept their newest part, ${answer.omitted.length} left out (see ${node.name}/CUT.txt)`
          : ''),
      out.elapsedMs,
    );
  } catch (err) {
    out.error = nodeError(node, err);
    reporter.node(node.name, `cannot collect logs: ${out.error.message}`, Date.now() - t0);
  }
}

function logsIndex(result: LogsResult, request: LogsRequest): Record<string, unknown> {
  return {
    cluster: result.clusterName,
    config: result.configPath,
    collected_at: new Date().toISOString(),
    since_sec: request.sinceSec ?? null,
    nodes: result.nodes.map((n) => ({
      name: n.name,
      role: n.role,
      host: n.host,
      ok: n.ok,
      session: n.session ?? null,
      bytes: n.bytes,
      files: n.files,
      cut: n.cut,
      omitted: n.omitted,
      key_lines: n.keyLines,
      ...(n.error ? { error: n.error.message, hint: n.error.hint ?? null } : {}),
    })),
  };
}

/** One gzip'd tar of the staging directory, written beside the target and renamed into place. */
async function packArchive(staging: string, output: string, entries: string[]): Promise<void> {
  // created new (O_EXCL, never through a planted symlink), 0600 until it is whole
  const tmp = join(dirname(output), `.${basename(output)}.${randomBytes(6).toString('hex')}.tmp`);
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
  const fd = openSync(tmp, flags, 0o600);
  let renamed = false;
  try {
    await pipeline(
      tar.c({ gzip: true, cwd: staging, portable: true }, entries) as unknown as NodeJS.ReadableStream,
      createWriteStream('', { fd, autoClose: false }),
    );
    renameSync(tmp, output);
    renamed = true;
  } finally {
    closeSync(fd);
    if (!renamed) rmSync(tmp, { force: true });
  }
}
