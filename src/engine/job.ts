// `job`: Ray jobs through the head over SSH (the job API's port need not be reachable from here).
// submit: connect the head → upload the working dir → Ray's own client submits it on the head and
// tails its log, streamed here as it comes → the job's end state. status | logs | stop | list: one
// round trip each to the head's job API, with the token supplied on the head.
import { randomBytes } from 'node:crypto';
import type { JobAnswer, JobRecord } from '../remote/types';
import { shellJoin } from '../ssh';
import { dashboardPort } from './decisions/desired';
import { NODE_LIMITS } from './decisions/defaults';
import { connectHead } from './steps/ray-env';
import { fail, type PhaseClock } from './steps/run-result';
import type { ClusterSession, NodeHandle } from './steps/session';
import type { JobReport, JobRequest, RunResult } from './types';
import { WorkingDirError, packWorkingDir, type PackedWorkingDir } from './steps/working-dir';
import { shortJobMessage } from '../words/job-message';
import { formatBytes } from '../words/bytes';

const JOB_ID = /^[A-Za-z0-9._:-]{1,200}$/;
/** Lines of a failed or stopped job's log shown with its status. */
const JOB_LOG_TAIL_LINES = 20;

/** Bad input found before anything is sent: the run ends with exit 2. */
function badInput(result: RunResult, message: string, hint?: string): void {
  fail(result, { message, ...(hint ? { hint } : {}) });
  result.badInput = true;
}

/** The runtime env text as an object, or a message saying what is wrong with it. */
export function parseRuntimeEnv(text: string | undefined): { value?: Record<string, unknown>; error?: string } {
  if (!text?.trim()) return {};
  try {
    const value = JSON.parse(text) as unknown;
    if (!value || typeof value !== 'object' || Array.isArray(value)) {
      return { error: 'the runtime env must be a JSON object, e.g. {"pip": ["requests"]}' };
    }
    return { value: value as Record<string, unknown> };
  } catch (err) {
    return { error: `the runtime env is not valid JSON: ${(err as Error).message}` };
  }
}

/** The entrypoint as one shell command: separate words are quoted, one string is taken as written. */
export function entrypointCommand(entrypoint: string[] | string | undefined): string {
  if (entrypoint === undefined) return '';
  if (typeof entrypoint === 'string') return entrypoint.trim();
  return entrypoint.length === 1 ? entrypoint[0].trim() : shellJoin(entrypoint);
}

export function jobReport(j: JobRecord, logTail?: string): JobReport {
  return {
    job_id: j.job_id,
    status: j.status,
    message: j.message ?? null,
    start_time: j.start_time ?? null,
    end_time: j.end_time ?? null,
    entrypoint: j.entrypoint ?? null,
    ...(logTail ? { log_tail: logTail } : {}),
  };
}

export async function runJob(session: ClusterSession, result: RunResult, clock: PhaseClock): Promise<void> {
  const request = session.options.job;
  if (!request) return badInput(result, 'no job action given');
  if (request.action !== 'submit' && request.action !== 'list') {
    if (!request.jobId || !JOB_ID.test(request.jobId)) {
      return badInput(result, `job ${request.action} needs a job id, e.g. raysubmit_XXXXXXXXXXXXXXXX`);
    }
  }
  let runtimeEnv: Record<string, unknown> | undefined;
  let archive: PackedWorkingDir | undefined;
  if (request.action === 'submit') {
    if (!entrypointCommand(request.entrypoint)) {
      return badInput(result, 'job submit needs an entrypoint', 'nokube ray job submit --config F -- python script.py');
    }
    const parsed = parseRuntimeEnv(request.runtimeEnvJson);
    if (parsed.error) return badInput(result, parsed.error);
    runtimeEnv = parsed.value;
    if (request.workingDir) {
      try {
        archive = await clock.phase('pack', () => packWorkingDir(request.workingDir!));
      } catch (err) {
        if (err instanceof WorkingDirError) return badInput(result, err.message, err.hint);
        throw err;
      }
    }
  }
  const head = await connectHead(session, result, clock);
  if (!head) return;
  const { action } = request;
  if (action === 'submit') return submit(session, head, request, runtimeEnv, archive, result, clock);

  const answer = await clock.phase(action, () =>
    head.lib!.job({
      action,
      job_id: request.jobId ?? null,
      tail: JOB_LOG_TAIL_LINES,
      dashboard_port: dashboardPort(session.cluster),
      wait_sec: NODE_LIMITS.jobStopWaitSec,
    }),
  );
  if (!answer.ok) return jobFailed(session, result, answer);
  result.status = 'healthy';
  if (answer.jobs) result.jobs = answer.jobs.map((j) => jobReport(j));
  if (answer.logs !== undefined) result.jobLogs = answer.logs;
  if (answer.job) {
    result.job = jobReport(answer.job, answer.log_tail);
    if (request.action === 'status') judge(session, result);
    if (request.action === 'stop' && answer.stopped === false) {
      result.warnings.push(`job ${answer.job.job_id} had already ended (${answer.job.status})`);
    }
  }
}

async function submit(
  session: ClusterSession,
  head: NodeHandle,
  request: JobRequest,
  runtimeEnv: Record<string, unknown> | undefined,
  archive: PackedWorkingDir | undefined,
  result: RunResult,
  clock: PhaseClock,
): Promise<void> {
  const { reporter, signal } = session.options;
  let remoteArchive: string | undefined;
  if (archive) {
    const t0 = Date.now();
    remoteArchive = await clock.phase('upload', () =>
      head.lib!.uploadToStorage(`jobs/upload-${randomBytes(6).toString('hex')}.tar.gz`, archive.archive),
    );
    reporter.node(head.node.name, workingDirUploaded(archive), Date.now() - t0);
  }
  let jobId: string | undefined;
  const t0 = Date.now();
  const answer = await clock.phase(request.noWait ? 'submit' : 'run', () =>
    head.lib!.stream<JobAnswer>(
      'job',
      {
        action: 'submit',
        entrypoint: entrypointCommand(request.entrypoint),
        runtime_env: runtimeEnv ?? null,
        archive: remoteArchive ?? null,
        follow: !request.noWait,
        python: session.cluster.python ?? null,
        tail: JOB_LOG_TAIL_LINES,
        dashboard_port: dashboardPort(session.cluster),
      },
      (event) => {
        if (event.event === 'submitted') {
          jobId = String(event.job_id);
          reporter.node(head.node.name, `job ${jobId} submitted`, Date.now() - t0);
        } else if (event.event === 'log') {
          const text = String(event.text ?? '');
          if (reporter.output) reporter.output(text, 'stdout');
          else for (const line of text.replace(/\n$/, '').split('\n')) reporter.info(line);
        } else if (event.event === 'warning') reporter.warn(String(event.text));
      },
      { signal, timeoutMs: 0 },
    ),
  );
  if (answer.aborted) {
    result.interrupted = true;
    result.status = 'healthy';
    if (jobId) {
      // one quick look, so the user sees where the job stands as they leave it running
      const now = await head
        .lib!.job({ action: 'status', job_id: jobId, dashboard_port: dashboardPort(session.cluster) })
        .catch(() => undefined);
      result.job = now?.job
        ? jobReport(now.job)
        : { job_id: jobId, status: 'RUNNING', message: null, start_time: null, end_time: null };
    }
    return;
  }
  if (!answer.ok) return jobFailed(session, result, answer);
  result.status = 'healthy';
  result.job = jobReport(answer.job!, answer.log_tail);
  judge(session, result);
}

/**
 * Ray's message in one line: a failed entrypoint's message repeats the end of its log ("..., last
 * available logs (truncated to 20,000 chars):\n..."), which the user has already seen.
 */
/** A job that ended FAILED or STOPPED fails the run, with Ray's message and where to read the log. */
function judge(session: ClusterSession, result: RunResult): void {
  const job = result.job!;
  if (job.status !== 'FAILED' && job.status !== 'STOPPED') return;
  fail(result, {
    node: session.cluster.head.name,
    host: session.cluster.head.sshUrl,
    message: `job ${job.job_id} ${job.status}${job.message ? `: ${shortJobMessage(job.message)}` : ''}`,
    hint: `its whole log: nokube ray job logs --config ${session.cluster.file} ${job.job_id}`,
  });
}

function jobFailed(session: ClusterSession, result: RunResult, answer: JobAnswer): void {
  const head = session.cluster.head;
  if (answer.cluster_down) result.status = 'down';
  if (answer.not_found) result.badInput = true;
  fail(result, {
    node: head.name,
    host: head.sshUrl,
    message: answer.error ?? 'the job request failed',
    ...(answer.hint ? { hint: answer.hint.replace('<file>', session.cluster.file) } : {}),
  });
}

/** What went to the head, and what stayed home: `.git/` always, ignored files, links. */
function workingDirUploaded(p: PackedWorkingDir): string {
  const files = `${p.files.length} file${p.files.length === 1 ? '' : 's'}`;
  const left = [
    '.git/',
    ...(p.ignored
      ? [
          `${p.ignored} path${p.ignored === 1 ? '' : 's'} ignored by ${p.by === 'git' ? "git's ignore rules" : '.gitignore'}`,
        ]
      : []),
    ...(p.notFiles
      ? [`${p.notFiles} symlink${p.notFiles === 1 ? '' : 's'} or special file${p.notFiles === 1 ? '' : 's'}`]
      : []),
  ];
  return `working dir uploaded: ${files}, ${formatBytes(p.bytes)} (${formatBytes(p.archive.length)} compressed); left out: ${left.join(', ')}`;
}
