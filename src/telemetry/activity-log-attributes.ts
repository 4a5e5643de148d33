import type { ActivityInterceptorsFactory } from '@temporalio/worker';

/**
 * Adds the activity input's jobId and pageNumber to every log line an activity writes (the SDK adds
 * workflowId, activityType and attempt), so a page's lines can be found by job and page.
 */
export const activityLogAttributes: ActivityInterceptorsFactory = () => {
  const attributes: { jobId?: string; pageNumber?: number } = {};
  return {
    inbound: {
      async execute(input, next) {
        const arg: unknown = input.args[0];
        if (arg && typeof arg === 'object') {
          const { jobId, pageNumber } = arg as Record<string, unknown>;
          if (typeof jobId === 'string') attributes.jobId = jobId;
          if (typeof pageNumber === 'number') attributes.pageNumber = pageNumber;
        }
        return next(input);
      },
    },
    outbound: {
      getLogAttributes(input, next) {
        return next({ ...input, ...attributes });
      },
    },
  };
};
