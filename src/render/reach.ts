// How to reach the cluster's dashboard: its URL needs the cluster's token and is often firewalled,
// so wherever `start` and `status` show it they also name the command that opens it from anywhere.
import type { RunResult } from '../engine/types';

/** `nokube ray dashboard --config <file>`, for a command whose result shows a dashboard URL. */
export function dashboardCommandLine(result: RunResult): string | undefined {
  if (!result.dashboardUrl || (result.command !== 'start' && result.command !== 'status')) return undefined;
  const path = /^[\w./@:+-]+$/.test(result.configPath)
    ? result.configPath
    : `'${result.configPath.replace(/'/g, `'\\''`)}'`;
  return `nokube ray dashboard --config ${path}`;
}

/** One line for the terminal and the job summary (plain text: callers escape it). */
export function dashboardReach(result: RunResult): string | undefined {
  const command = dashboardCommandLine(result);
  if (!command) return undefined;
  return `to open it from your machine (SSH forward, token added for you alone): ${command}, then the URL it prints`;
}
