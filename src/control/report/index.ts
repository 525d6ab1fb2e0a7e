/** Incident reports: incidents from the journal, config diffs, and the postmortem Markdown. */
export { writeReport, type ReportInput } from './markdown.js';
export { findIncidents, alertId, type Incident } from './incident.js';
export { unifiedDiff, changedKeys, summarizeDiff } from './diff.js';
export { describeEvent, type ReportFinding } from './wording.js';
