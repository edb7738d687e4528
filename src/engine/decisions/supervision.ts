// What a node's supervisor report means for status and plan (pure): restarts, crash loops, launchers.
import type { ExitRecord, Launcher, SupervisionReport } from '../../remote/types';
import type { NodeSupervision, RestartRecord } from '../types';

export function exitWords(e: Pick<ExitRecord, 'signal' | 'exit_code' | 'reason'>): string {
  if (e.signal) return `killed by ${e.signal}`;
  if (e.reason) return e.reason;
  return `exit code ${e.exit_code ?? 'unknown'}`;
}

function record(e: ExitRecord): RestartRecord {
  return {
    at: new Date(e.at * 1000).toISOString(),
    process: e.process,
    why: exitWords(e),
    ...(e.exit_code !== undefined ? { exitCode: e.exit_code } : {}),
    ...(e.signal ? { signal: e.signal } : {}),
  };
}

/** The node's supervision as status shows it; `launcher` is what the node would use when it has none yet. */
export function nodeSupervision(
  report: SupervisionReport | null | undefined,
  launcher?: Launcher,
): NodeSupervision | undefined {
  if (report === undefined) return undefined;
  if (!report) return { launcher: launcher ?? 'none', state: 'none', restarts: 0 };
  const out: NodeSupervision = {
    launcher: report.launcher ?? launcher ?? 'none',
    state: report.state ?? 'none',
    restarts: report.restarts ?? 0,
  };
  if (report.last_restart) out.lastRestart = record(report.last_restart);
  if (report.last_exit && (report.state === 'crash-loop' || report.state === 'backoff'))
    out.lastExit = { ...record(report.last_exit), logTail: report.last_exit.log_tail };
  if (report.new_restarts !== undefined) out.newRestarts = report.new_restarts;
  return out;
}

/** Status warnings: a crash loop (with its last exit and log tail), restarts since the last check. */
export function supervisionWarnings(node: string, s: NodeSupervision | undefined): string[] {
  if (!s) return [];
  const out: string[] = [];
  if (s.state === 'crash-loop') {
    const tail = s.lastExit?.logTail?.trimEnd().split('\n').slice(-8).join('\n');
    out.push(
      `${node} is crash-looping: its supervisor gave up after repeated failures (last: ${s.lastExit ? `${s.lastExit.process} ${s.lastExit.why} at ${s.lastExit.at}` : 'unknown'}); fix the cause and run start again${tail ? `\n${tail}` : ''}`,
    );
  } else if (s.state === 'gone') {
    out.push(
      `${node}: its supervisor is not running (a reboot without systemd or cron, or it was killed); run start to restore it`,
    );
  }
  if (s.newRestarts) {
    const last = s.lastRestart ? ` (last: ${s.lastRestart.process} ${s.lastRestart.why} at ${s.lastRestart.at})` : '';
    out.push(
      `${node} restarted ${s.newRestarts} time${s.newRestarts === 1 ? '' : 's'} since the last status check${last}`,
    );
  }
  return out;
}

/** Plan: a node where supervision cannot survive a reboot, and what to enable. */
export function launcherWarning(node: string, launcher: Launcher | undefined): string | undefined {
  if (launcher !== 'detached') return undefined;
  return `${node} has neither systemd nor cron: its supervisor runs detached and the node will not come back after a reboot (install and run cron, or use systemd: log in as root, or enable linger for the login user with loginctl enable-linger)`;
}
