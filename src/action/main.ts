// The Action, as the story of one run: read the inputs, find the pull request (if any), run the
// engine, then annotate, set outputs, write the job summary and, for a plan, the sticky PR comment.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';
import * as core from '@actions/core';
import { run as runEngine } from '../engine';
import { isRunnerVariable } from '../credentials/references';
import { mapStrings } from '../render/safe-text';
import { connectTimeoutSec } from '../engine/decisions/defaults';
import type { Command, RunOptions, RunResult } from '../engine/types';
import { findRemoteLibDir } from '../remote/locate';
import { planCommentMarker, renderPlanComment } from '../render';
import { upsertStickyComment } from './comment';
import { literalPasswords } from './config-secrets';
import { failureMessage } from './failure';
import { collectFailureLogs, wantsFailureLogs } from './failure-logs';
import { GitHubClient, GitHubError } from './github';
import { sshConfigSettings } from '../config/ssh-config/settings';
import { readInputs, type ActionInputs } from './inputs';
import { annotate, setOutputs, thrownResult, toPosix, writeSummary, type RunContext } from './publish';
import { baseConfigText, configChange, readPullRequestContext, type PullRequestContext } from './pull-request';
import { actionReporter } from './reporter';
import { SecretRegistry } from './secrets';

export async function run(): Promise<void> {
  const secrets = new SecretRegistry();
  const ctx = runContext(process.env);
  let command: Command = 'plan';
  let configPath = 'ray-config.yaml';
  let summaryWritten = false;
  try {
    const inputs = readInputs(secrets);
    command = inputs.command;
    configPath = inputs.config;
    const result = await deploy(inputs, secrets, ctx, () => (summaryWritten = true));
    const failure = failureMessage(result, inputs);
    if (failure) core.setFailed(secrets.mask(failure));
  } catch (err) {
    // The one catch-all: whatever went wrong still gets a summary and a failed step.
    const message = secrets.mask(err instanceof Error ? err.message : String(err));
    core.setFailed(message);
    if (err instanceof Error && err.stack) core.debug(secrets.mask(err.stack));
    if (!summaryWritten) {
      const result = thrownResult(command, configPath, message);
      setOutputs(result, secrets);
      await writeSummary(result, ctx, secrets);
    }
  }
}

async function deploy(
  inputs: ActionInputs,
  secrets: SecretRegistry,
  ctx: RunContext,
  onSummary: () => void,
): Promise<RunResult> {
  const configFile = resolve(ctx.workspace, inputs.config);
  // Paths as the repository names them: PR file lists, the comment marker, annotations.
  const repoPath = toPosix(relative(ctx.workspace, configFile));
  registerConfigPasswords(configFile, secrets);

  const pr = readPullRequestContext(ctx.env);
  if (pr?.fork && inputs.command !== 'validate' && inputs.command !== 'plan') {
    // pull_request_target hands a fork's config this repository's secrets: it must not pick the hosts.
    throw new Error(
      `refusing to ${inputs.command} from a pull request from a fork (${inputs.command} connects to the nodes the fork's config names); use validate or plan on pull requests`,
    );
  }
  const github = inputs.githubToken
    ? new GitHubClient({ token: inputs.githubToken, apiUrl: ctx.env.GITHUB_API_URL, log: (m) => core.info(m) })
    : undefined;
  let previousConfigText: string | undefined;
  let touched = false;
  if (inputs.command === 'plan' && pr) {
    core.startGroup(`Pull request #${pr.number}${pr.fork ? ' (from a fork: offline plan)' : ''}`);
    try {
      ({ previousConfigText, touched } = await pullRequestPlanInput(github, pr, repoPath, secrets));
    } finally {
      core.endGroup();
    }
  }

  const remoteLib = remoteLibDir();
  const options: RunOptions = {
    command: inputs.command,
    configPath: enginePath(configFile),
    ssh: {
      identities: inputs.sshPrivateKeys.map((key, i) => ({ label: `ssh-private-key input #${i + 1}`, key })),
      passphrase: inputs.sshPassphrase,
      agentSocket: ctx.env.SSH_AUTH_SOCK || undefined,
      knownHosts: inputs.knownHosts,
      insecureSkipHostKeyCheck: inputs.insecureSkipHostKeyCheck,
      defaultUser: inputs.sshUser,
      ...(inputs.proxyJump ? { proxyJump: inputs.proxyJump } : {}),
      ...(inputs.sshConfig.trim()
        ? {
            hostSettings: sshConfigSettings({
              text: inputs.sshConfig,
              label: 'the ssh-config input',
              home: homedir(),
              readFile: (p) => readFileSync(p, 'utf8'),
              listDir: (p) => readdirSync(p),
              debug: (m) => core.debug(m),
              secret: (v) => secrets.add(v),
            }),
          }
        : {}),
      connectTimeoutSec: connectTimeoutSec(inputs.timeoutSec),
      protocolDebug: core.isDebug(),
    },
    concurrency: inputs.concurrency,
    timeoutSec: inputs.timeoutSec,
    waitLockSec: inputs.waitLockSec,
    noDrain: inputs.noDrain,
    env: engineEnv(ctx.env),
    // A pull request's plan runs where secrets are absent by design (always so from a fork).
    allowMissingEnv: inputs.allowMissingEnv || (inputs.command === 'plan' && pr !== undefined),
    remoteLibDir: remoteLib.dir,
    reporter: actionReporter(secrets, (phase) => `nokube ray ${inputs.command}: ${phase}`),
    previousConfigText,
    // A fork's code must never reach machines with this repository's credentials.
    offline: pr?.fork ? true : undefined,
    // nor may a pull request vouch for a machine's key: its own host_key pins are not trusted
    distrustChangedPins: pr ? true : undefined,
    deployer: ctx.env.GITHUB_RUN_ID ? `run ${ctx.env.GITHUB_RUN_ID}` : undefined,
    seenBy: 'action',
    ...(inputs.job
      ? {
          job: {
            action: 'submit' as const,
            entrypoint: inputs.job.entrypoint,
            // relative to the workspace, like `config`
            workingDir: inputs.job.workingDirectory && resolve(ctx.workspace, inputs.job.workingDirectory),
            runtimeEnvJson: inputs.job.runtimeEnvJson,
          },
        }
      : {}),
  };

  // each phase of the run is its own group (the reporter opens and closes them)
  core.info(`nokube ray ${inputs.command} --config ${repoPath}`);
  let result: RunResult;
  try {
    // masked on the raw text, before any renderer escapes or JSON-encodes it
    result = mapStrings(await runEngine(options), (s) => secrets.mask(s));
  } catch (err) {
    // A bundle copied without its remote_lib/: say so, not a bare ENOENT.
    if (remoteLib.error && (err as NodeJS.ErrnoException).code === 'ENOENT') throw remoteLib.error;
    throw err;
  }
  registerResultPasswords(result, secrets);

  annotate(result, ctx, secrets);
  setOutputs(result, secrets);
  await writeSummary(result, ctx, secrets);
  onSummary();
  if (wantsFailureLogs(result)) await collectFailureLogs(options, result, ctx.env, ctx.workspace, secrets);

  if (inputs.command === 'plan' && pr && touched && inputs.commentOnPr) {
    if (!github) core.warning('no github-token: the plan comment is not posted');
    else await postPlanComment(github, pr, result, repoPath, ctx, secrets);
  } else if (inputs.command === 'plan' && pr && !touched) {
    core.info(`The pull request does not change ${repoPath}: no plan comment.`);
  }
  return result;
}

/** The base branch's config (to plan against) and whether the PR touches the config at all. */
async function pullRequestPlanInput(
  github: GitHubClient | undefined,
  pr: PullRequestContext,
  repoPath: string,
  secrets: SecretRegistry,
): Promise<{ previousConfigText?: string; touched: boolean }> {
  if (!github) {
    core.warning('no github-token: cannot read the base branch config; every node is planned as new');
    return { touched: false };
  }
  let touched = false;
  let basePath = repoPath;
  try {
    ({ touched, basePath } = await configChange(github, pr, repoPath));
    core.info(`The pull request ${touched ? 'changes' : 'does not change'} ${repoPath}.`);
  } catch (err) {
    core.warning(secrets.mask(`cannot list the pull request's files, so no plan comment: ${(err as Error).message}`));
  }
  try {
    const previousConfigText = await baseConfigText(github, pr, basePath);
    core.info(
      previousConfigText === undefined
        ? `${basePath} does not exist at the base ${pr.baseSha.slice(0, 7)}: every node is new.`
        : `Planning against ${basePath} at the base ${pr.baseSha.slice(0, 7)}.`,
    );
    return { previousConfigText, touched };
  } catch (err) {
    core.warning(
      secrets.mask(
        `cannot read ${basePath} at the base commit, every node is planned as new: ${(err as Error).message}`,
      ),
    );
    return { touched };
  }
}

async function postPlanComment(
  github: GitHubClient,
  pr: PullRequestContext,
  result: RunResult,
  repoPath: string,
  ctx: RunContext,
  secrets: SecretRegistry,
): Promise<void> {
  const marker = planCommentMarker(repoPath);
  const body = secrets.mask(
    renderPlanComment(result, { configPath: repoPath, sha: pr.headSha, runUrl: ctx.runUrl, marker }),
  );
  try {
    const sticky = await upsertStickyComment(github, pr.repo, pr.number, marker, body);
    core.info(`Plan comment ${sticky.action} on pull request #${pr.number}.`);
  } catch (err) {
    const refused = err instanceof GitHubError && (err.status === 403 || err.status === 404);
    core.warning(
      secrets.mask(
        `the plan comment could not be posted: ${(err as Error).message}` +
          (refused
            ? '. Pull requests from forks get a read-only token; otherwise give the job `permissions: pull-requests: write`. The plan is in the job summary.'
            : ''),
      ),
    );
  }
}

function runContext(env: Record<string, string | undefined>): RunContext {
  const server = env.GITHUB_SERVER_URL || 'https://github.com';
  const runUrl =
    env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID
      ? `${server}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}`
      : undefined;
  return { env, workspace: env.GITHUB_WORKSPACE || process.cwd(), sha: env.GITHUB_SHA, runUrl };
}

/** The engine reads the config relative to the working directory (the workspace on a runner). */
function enginePath(configFile: string): string {
  const rel = relative(process.cwd(), configFile);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : configFile;
}

/**
 * The environment `${NAME}` references may read: the job's env, without the Action's own inputs and
 * the runner's tokens (a config must not be able to send those to a host as a password).
 */
function engineEnv(env: Record<string, string | undefined>): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(env)) {
    if (isRunnerVariable(k)) continue; // the config checks refuse them too; this keeps them out regardless
    out[k] = v;
  }
  if (core.isDebug()) out.NOKUBE_DEBUG = '1';
  return out;
}

/**
 * remote_lib/ is copied beside the bundle (dist/remote_lib); from source it is at the repository root.
 * Never looked for in the working directory: that is the user's workspace.
 */
function remoteLibDir(): { dir: string; error?: Error } {
  try {
    return { dir: findRemoteLibDir(__dirname) };
  } catch (err) {
    // validate and an offline plan never need it; the engine fails when it reads the missing file.
    return { dir: join(__dirname, 'remote_lib'), error: err as Error };
  }
}

/** Literal passwords in the config are masked before anything runs (the config warns about them too). */
function registerConfigPasswords(configFile: string, secrets: SecretRegistry): void {
  if (!existsSync(configFile)) return;
  let text: string;
  try {
    text = readFileSync(configFile, 'utf8');
  } catch {
    return;
  }
  for (const password of literalPasswords(text)) secrets.add(password);
}

function registerResultPasswords(result: RunResult, secrets: SecretRegistry): void {
  for (const node of result.config?.nodes ?? []) {
    for (const user of node.users) if (user.password && !user.password.includes('${')) secrets.add(user.password);
  }
}
