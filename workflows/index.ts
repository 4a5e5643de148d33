/** The single workflowsPath entry bundled by the Temporal worker: every workflow it registers. */
export { documentWorkflow, progressQuery } from './document.js';
export { pageRangeWorkflow } from './pages.js';
export { providePasswordUpdate } from './password.js';
export { retryPagesWorkflow } from './retry.js';
export { cleanupExpiredJobsWorkflow, reconcileJobsWorkflow } from './maintenance.js';
export { webhookDeliveryWorkflow } from './webhooks.js';
export { legacyMirrorWorkflow } from './legacy-mirror.js';
export { setPrioritySignal } from './priority.js';
