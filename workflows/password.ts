/** The password wait of an encrypted document: the providePassword update and the durable wait for it. */
import { ApplicationFailure, condition, defineUpdate, setHandler } from '@temporalio/workflow';
import {
  providePasswordUpdateName,
  type ProvidePasswordInput,
  type ProvidePasswordOutput,
  type SealedPassword,
} from '../core/contracts.js';
import type { FailureCode, PasswordFailureCode } from '../core/failures.js';
import { inspection, type Bookkeeping } from './activity-options.js';

/** Delivers a sealed password to a job in `needs_password`; fails with PDF_PASSWORD_INCORRECT if it does not open the file. */
export const providePasswordUpdate = defineUpdate<ProvidePasswordOutput, [ProvidePasswordInput]>(
  providePasswordUpdateName,
);

/** Default wait for a password when the input names none (inputs from before the setting existed). */
export const DEFAULT_PASSWORD_WAIT_SECONDS = 24 * 3600;

/** The state behind the providePassword update: open only while the job waits in `needs_password`. */
export interface PasswordGate {
  waiting: boolean;
  accepted?: SealedPassword;
}

/**
 * Registers the providePassword update from the workflow's start, so an early or late update is rejected
 * by the validator at once (409 at the API) rather than buffered. The handler has the password checked by
 * an activity: a wrong one fails only its update (the client hears of it at once) and the job keeps waiting.
 */
export function handlePasswordUpdates(jobId: string, storageKey: string, gate: PasswordGate): void {
  const notWaiting = (message: string) =>
    ApplicationFailure.create({ type: 'NOT_WAITING_FOR_PASSWORD' satisfies FailureCode, message });
  setHandler(
    providePasswordUpdate,
    async ({ password }) => {
      const checked = await inspection.checkDocumentPassword({ jobId, storageKey, password });
      if (!checked.opens) throw ApplicationFailure.create({ type: checked.code, message: checked.message });
      if (!gate.waiting) throw notWaiting('The job stopped waiting for a password while this one was checked.');
      gate.accepted = password;
      gate.waiting = false;
      return { accepted: true };
    },
    {
      validator: (arg: ProvidePasswordInput | undefined) => {
        if (!gate.waiting) throw notWaiting('The job is not waiting for a password.');
        if (typeof arg?.password !== 'string' || arg.password === '') throw new Error('password is required');
      },
    },
  );
}

/**
 * Waits, durably, for a password that opens the document: the job shows `needs_password` with the reason
 * (`PDF_PASSWORD_REQUIRED` or `PDF_PASSWORD_INCORRECT`) until the providePassword update delivers one, or
 * until `waitSeconds` pass (then undefined). Cancellation ends the wait like any other step.
 */
export async function waitForPassword(
  jobId: string,
  gate: PasswordGate,
  reason: { code: PasswordFailureCode; message: string },
  waitSeconds: number,
  bookkeeping: Bookkeeping,
  /** Called once the job shows needs_password (the job.needs_password webhook). */
  onWaiting?: (reason: { code: PasswordFailureCode; message: string }) => Promise<void>,
): Promise<SealedPassword | undefined> {
  const message =
    `${reason.message} POST it as {"password": "…"} to /v1/jobs/${jobId}/password within ` +
    `${waitSeconds} s, or the job fails with PASSWORD_DEADLINE_EXCEEDED.`;
  // Open before the job shows needs_password: a client that sees the status may send the password at once.
  gate.accepted = undefined;
  gate.waiting = true;
  try {
    await bookkeeping.updateJob({
      jobId,
      status: 'needs_password',
      step: 'waiting-for-password',
      error: { code: reason.code, message },
    });
    await onWaiting?.({ code: reason.code, message });
    await condition(() => gate.accepted !== undefined, waitSeconds * 1000);
  } finally {
    gate.waiting = false;
  }
  return gate.accepted;
}
