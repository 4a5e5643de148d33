/** The single workflowsPath entry bundled by the Temporal worker. */
export { cleanupExpiredJobsWorkflow, reconcileJobsWorkflow } from './maintenance.js';
export {
  documentWorkflow,
  pageRangeWorkflow,
  progressQuery,
  providePasswordUpdate,
  retryPagesWorkflow,
} from './document.js';
