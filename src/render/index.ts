// Rendering a RunResult: pure functions shared by the job summary, the PR comment and the CLI.
export { renderSummary, SUMMARY_MAX_BYTES, type SummaryContext } from './summary';
export { renderPlanComment, planCommentMarker, COMMENT_MAX_CHARS, type PlanCommentContext } from './comment';
export { renderTerminal, textTable, type TerminalOptions } from './terminal';
export { renderPlanText } from './plan-text';
export { escapeHtml, escapeText, escapeCell, escapeCode, escapeComment, stripAnsi } from './escape';
export { runOutputs, runErrors, type RunOutputs, type NodeOutput } from './outputs';
export { planCounts, statusLine, formatResources, formatBytes, formatDuration, type PlanCounts } from './model';
export { renderTimelineText, timelineTable, timelineMermaid, timelineRows } from './timeline';
