import { z } from 'zod';
import { createJobResult, deleteJobResult, jobProgress, resetPasswordJobResult } from '@kup/core';
import { welcomeJson } from './welcome-view.js';

export const JOB_STATES = ['waiting', 'waiting-children', 'prioritized', 'delayed', 'active', 'completed', 'failed', 'unknown'] as const;
export type JobStateName = (typeof JOB_STATES)[number];

export const createResultView = createJobResult
  .extend({
    password: z.string().optional().describe('Decrypted for this answer; absent once purged (PASSWORD_TTL_SECONDS).'),
    welcome: welcomeJson.optional().describe('When the create asked for it (`welcome: true`).'),
  })
  .meta({ id: 'CreateResult' });
export const deleteResultView = deleteJobResult.meta({ id: 'DeleteResult' });
export const passwordResetResultView = resetPasswordJobResult
  .extend({ password: z.string().optional().describe('Decrypted for this answer; absent once purged (PASSWORD_TTL_SECONDS).') })
  .meta({ id: 'PasswordResetResult' });

/** What `GET /jobs/:id` answers. Dates are ISO 8601. */
export const jobView = z
  .object({
    id: z.string(),
    /** The job name: create, delete, reset, cleanup, sync, … */
    type: z.string(),
    queue: z.string(),
    state: z.enum(JOB_STATES),
    progress: jobProgress,
    attemptsMade: z.number().int(),
    result: z.union([createResultView, deleteResultView, passwordResetResultView, z.record(z.string(), z.unknown())]).optional(),
    error: z.object({ code: z.string(), message: z.string() }).optional(),
    createdAt: z.string(),
    finishedAt: z.string().nullable(),
  })
  .meta({ id: 'Job' });
export type JobView = z.infer<typeof jobView>;
export type CreateResultView = z.infer<typeof createResultView>;
