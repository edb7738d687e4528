// `job` for the terminal: the job list as a table, a job's log, its end state and what to run next
// (or --json: the jobs as Ray reports them).
import type { JobAction, JobReport, RunResult } from '../engine/types';
import { shortJobMessage } from '../words/job-message';
import { errorLines, type Printed } from './printed';

/** What the words depend on besides the result: the user's flags. */
export interface JobView {
  json: boolean;
  /** The config path, as the user gave it (in the follow-up commands shown). */
  config: string;
  action?: JobAction;
  noWait?: boolean;
}

function when(ms: number | null): string {
  return ms ? new Date(ms).toISOString().replace('.000Z', 'Z') : '-';
}

function jobJson(j: JobReport) {
  return { job_id: j.job_id, status: j.status, message: j.message, start_time: j.start_time, end_time: j.end_time };
}

export function renderJob(result: RunResult, view: JobView): Printed[] {
  const printed: Printed[] = [];
  const out = (text: string) => printed.push({ stream: 'stdout', text });
  const err = (text: string) => printed.push({ stream: 'stderr', text });
  if (view.json) {
    if (result.jobs) out(JSON.stringify(result.jobs.map(jobJson), null, 2) + '\n');
    else if (result.job) out(JSON.stringify(jobJson(result.job), null, 2) + '\n');
    else if (result.jobLogs !== undefined) out(JSON.stringify({ logs: result.jobLogs }) + '\n');
    else out(JSON.stringify({ errors: result.errors }, null, 2) + '\n');
    if (result.job || result.jobs) err(errorLines(result.errors));
    return printed;
  }
  if (result.jobLogs !== undefined) out(result.jobLogs);
  if (result.jobs) {
    const rows = result.jobs.map((j) => [j.job_id, j.status, when(j.start_time), when(j.end_time), j.entrypoint ?? '']);
    const head = ['JOB ID', 'STATUS', 'STARTED', 'ENDED', 'ENTRYPOINT'];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (r: string[]) => r.map((c, i) => (i < r.length - 1 ? c.padEnd(widths[i]) : c)).join('  ') + '\n';
    out(rows.length ? [head, ...rows].map(line).join('') : 'no jobs on this cluster\n');
  }
  let errors = result.errors;
  const job = result.job;
  if (job && view.action !== 'list') {
    const stopHint = `nokube ray job stop --config ${view.config} ${job.job_id}`;
    if (result.interrupted) {
      err(`\nstopped following job ${job.job_id} (${job.status}); it keeps running on the cluster.\n`);
      err(`  its log:   nokube ray job logs --config ${view.config} ${job.job_id}\n  stop it:   ${stopHint}\n`);
      return printed;
    }
    if (job.log_tail && (view.noWait || view.action !== 'submit')) {
      err(`last lines of its log:\n${job.log_tail.replace(/^/gm, '  ')}\n`);
    }
    err(`job ${job.job_id}: ${job.status}${job.message ? ` (${shortJobMessage(job.message)})` : ''}\n`);
    // the line above already says why the job failed
    errors = errors.filter((e) => !e.message.startsWith(`job ${job.job_id} `));
    if (view.action === 'submit' && view.noWait) {
      err(`  follow it: nokube ray job logs --config ${view.config} ${job.job_id}\n  stop it:   ${stopHint}\n`);
    }
  }
  err(errorLines(errors));
  return printed;
}
