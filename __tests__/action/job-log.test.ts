// A job's log printed by the Action (`command: job`) is data to the runner: no line of it, however
// it is spelt, is a workflow command; the Action's own commands around it still are.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { actionReporter } from '../../src/action/reporter';
import { SecretRegistry } from '../../src/action/secrets';
import { workflowCommands } from './workflow-commands';

const HOSTILE = [
  'step 1',
  '::error::forged error',
  '  ::add-mask::nokube',
  '::stop-commands::guess',
  '::warning title=x::forged warning',
  'progress 10%\r::error::forged after a carriage return',
  '\u0085::error::forged after a NEL',
  'text ##[error]forged v1 command',
  '::guess::',
  '::notice::forged notice',
  'done',
].join('\n');

function printed(run: () => void): string {
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
    return true;
  });
  try {
    run();
  } finally {
    spy.mockRestore();
  }
  return out;
}

afterEach(() => vi.restoreAllMocks());

describe('the job log in the workflow log', () => {
  it("issues no workflow command, in whatever chunks it arrives; the Action's own commands still work", () => {
    const secrets = new SecretRegistry();
    const reporter = actionReporter(secrets);
    const out = printed(() => {
      // as it comes over SSH: chunks cut anywhere, the Action's own lines in between
      reporter.output!(HOSTILE.slice(0, 30), 'stdout');
      reporter.output!(HOSTILE.slice(30, 120), 'stdout');
      reporter.warn('our own warning');
      reporter.output!(HOSTILE.slice(120) + '\n', 'stdout');
      reporter.node('ray-head', 'a node says ##[error]x and\n::error::y');
      reporter.secret('s3cret-value');
      reporter.output!('the job prints s3cret-value\n', 'stdout');
    });
    const commands = workflowCommands(out);
    expect(commands.filter((c) => /forged|^x|^y/.test(c.data))).toEqual([]);
    expect(commands.map((c) => c.command)).toEqual(['warning', 'add-mask']);
    expect(commands[0].data).toBe('our own warning');
    // every line of the job is still there to read
    for (const line of HOSTILE.split(/\r|\n/)) expect(out).toContain(line);
    expect(out).toContain('the job prints ***');
  });
});
