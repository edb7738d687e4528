// The workflow commands the runner would act on in a step's stdout, read the way actions/runner
// reads them (src/Runner.Worker/ActionCommandManager.cs, src/Runner.Common/ActionCommand.cs): lines
// split at \n, \r\n and \r (.NET ReadLine); `::name props::data` at a line's start after .NET
// whitespace (which, unlike JavaScript's, includes U+0085); the older `##[name props]data` anywhere in
// a line; `::stop-commands::TOKEN` ignores every command until `::TOKEN::`.

export interface WorkflowCommand {
  command: string;
  data: string;
  line: string;
}

const REGISTERED = [
  'stop-commands',
  'set-env',
  'set-output',
  'save-state',
  'add-mask',
  'add-path',
  'add-matcher',
  'remove-matcher',
  'debug',
  'notice',
  'warning',
  'error',
  'group',
  'endgroup',
  'echo',
];

/** .NET's String.TrimStart(): Unicode white space, U+0085 and U+0009..U+000D included. */
const DOTNET_LEADING_SPACE = /^[\s\u0085]+/;

function parse(line: string, registered: Set<string>): WorkflowCommand | undefined {
  const trimmed = line.replace(DOTNET_LEADING_SPACE, '');
  if (trimmed.startsWith('::')) {
    const end = trimmed.indexOf('::', 2);
    if (end >= 0) {
      const info = trimmed.slice(2, end);
      const name = info.split(' ')[0];
      if (registered.has(name.toLowerCase())) return { command: name, data: trimmed.slice(end + 2), line };
    }
  }
  const at = line.indexOf('##[');
  if (at >= 0) {
    const rb = line.indexOf(']', at);
    if (rb >= 0) {
      const name = line.slice(at + 3, rb).split(' ')[0];
      if (registered.has(name.toLowerCase())) return { command: name, data: line.slice(rb + 1), line };
    }
  }
  return undefined;
}

/** Every command the runner would carry out (stop-commands and its resume token left out). */
export function workflowCommands(stdout: string): WorkflowCommand[] {
  const registered = new Set(REGISTERED);
  const done: WorkflowCommand[] = [];
  let stopToken: string | undefined;
  for (const line of stdout.split(/\r\n|\r|\n/)) {
    const cmd = parse(line, registered);
    if (!cmd) continue;
    if (stopToken !== undefined) {
      if (stopToken && cmd.command.toLowerCase() === stopToken.toLowerCase()) {
        registered.delete(stopToken.toLowerCase());
        stopToken = undefined;
      }
      continue;
    }
    if (cmd.command.toLowerCase() === 'stop-commands') {
      stopToken = cmd.data;
      registered.add(stopToken.toLowerCase());
      continue;
    }
    done.push(cmd);
  }
  return done;
}
