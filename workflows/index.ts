/** The single workflowsPath entry bundled by the Temporal worker. */
export { documentWorkflow, pageRangeWorkflow, progressQuery } from './document.js';
export { cleanupExpiredJobsWorkflow, reconcileJobsWorkflow } from './maintenance.js';
