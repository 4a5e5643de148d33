/** The single workflowsPath entry bundled by the Temporal worker. */
export { cleanupExpiredJobsWorkflow, reconcileJobsWorkflow } from './maintenance.js';
export { documentWorkflow, pageRangeWorkflow, progressQuery, retryPagesWorkflow } from './document.js';
