/** The single workflowsPath entry bundled by the Temporal worker. */
export { documentWorkflow, pageRangeWorkflow, progressQuery, retryPagesWorkflow } from './document.js';
