import { z } from 'zod';

/** The body of every error answer (4xx and 5xx), as the error handler sends it. */
export const errorBody = z
  .object({
    message: z.string(),
    code: z.string().optional(),
    details: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .meta({ id: 'Error' });
export type ErrorBody = z.infer<typeof errorBody>;

/** Responses every authenticated route may give besides its own. */
export const commonErrors = { 400: errorBody, 401: errorBody, 500: errorBody, 503: errorBody } as const;

/** …and those that take a body: too large, not JSON. */
export const bodyErrors = { ...commonErrors, 413: errorBody, 415: errorBody } as const;
