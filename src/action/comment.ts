// The sticky plan comment: one per config path, found again by the hidden marker on its first line
// and its author (this token's own login), and updated in place, so a pull request never collects a
// second copy and a comment a person wrote (or quoted the marker in) is never edited.
import type { GitHubClient, IssueComment, RepoRef } from './github';

export interface StickyResult {
  action: 'created' | 'updated' | 'unchanged';
  commentId: number;
}

/**
 * The comment `author` posted before for `marker`, or undefined. Every page is read: on a busy pull
 * request the comment may be far down the list.
 */
export async function findStickyComment(
  client: GitHubClient,
  repo: RepoRef,
  issueNumber: number,
  marker: string,
  author: string,
): Promise<IssueComment | undefined> {
  const comments = await client.listIssueComments(repo, issueNumber);
  return comments.find((c) => firstLine(c.body) === marker && c.user?.login === author);
}

export async function upsertStickyComment(
  client: GitHubClient,
  repo: RepoRef,
  issueNumber: number,
  marker: string,
  body: string,
): Promise<StickyResult> {
  if (firstLine(body) !== marker) throw new Error('the comment body must start with its marker line');
  const author = await client.commentAuthor();
  const existing = await findStickyComment(client, repo, issueNumber, marker, author);
  if (!existing) {
    const created = await client.createComment(repo, issueNumber, body);
    return { action: 'created', commentId: created.id };
  }
  if (existing.body === body) return { action: 'unchanged', commentId: existing.id };
  await client.updateComment(repo, existing.id, body);
  return { action: 'updated', commentId: existing.id };
}

function firstLine(body: string | undefined): string {
  return (body ?? '').split(/\r?\n/, 1)[0].trim();
}
