import { writeSync } from 'node:fs';
import type { ApiClient } from '../api-client.js';
import type { components } from '../generated/api.js';
import { EXIT, UsageError, type CliIo } from '../io.js';
import { closeNewFile, openNewFile } from '../new-file.js';
import { finished, waitForJob } from '../wait.js';

type PasswordReset = components['schemas']['PasswordResetResult'];

export interface ResetPasswordOptions {
  json: boolean;
  /** Write the password to this file (made new, mode 0600) rather than to stdout. */
  out?: string | undefined;
  /** Longest wait for the job. */
  timeoutMs: number;
}

/**
 * `trainees reset-password <username> [--out F]`: a new password for a trainee who lost
 * theirs, waited for and printed (stdout: the password alone, for scripts; stderr: what was
 * reset). `--out` makes the file before anything is asked of the API, so a file that cannot
 * be written never costs the trainee a password nobody saw.
 */
export async function resetPasswordCommand(api: ApiClient, io: CliIo, username: string, options: ResetPasswordOptions): Promise<number> {
  const file = options.out === undefined ? undefined : openNewFile(options.out);
  try {
    const answer = await newPassword(api, io, username, options.timeoutMs);
    if (typeof answer === 'number') return answer;
    const { password, ...rest } = answer;
    if (!password) {
      io.err(`error: ${username}'s new password is no longer readable (PASSWORD_TTL_SECONDS passed): reset it again`);
      return EXIT.failed;
    }
    io.err(`${username}: new password set in Keycloak${rest.reset.grafana ? ' and Grafana' : `; Grafana not changed: ${rest.grafanaSkipped ?? 'no account of theirs'}`}`);
    if (file) {
      writeSync(file.fd, `${password}\n`);
      file.written = true;
      io.err(`password written to ${file.path} (readable by you only)`);
      if (options.json) io.out(JSON.stringify(rest, null, 2));
    } else io.out(options.json ? JSON.stringify(answer, null, 2) : password);
    return EXIT.ok;
  } finally {
    if (file) closeNewFile(file);
  }
}

/** The finished job's result (with its password), or the exit code of why there is none. */
async function newPassword(api: ApiClient, io: CliIo, username: string, timeoutMs: number): Promise<PasswordReset | number> {
  const response = await api.call('POST', `trainees/${encodeURIComponent(username)}/password`, undefined, { prefer: 'wait=60' });
  const body = response.body as Partial<PasswordReset> & { message?: string; code?: string; jobId?: string };
  if (response.status === 200) return body as PasswordReset;
  if (response.status === 400) throw new UsageError(body.message ?? 'bad request');
  if (response.status !== 202 || !body.jobId) {
    io.err(`error: ${body.message ?? `HTTP ${response.status}`}${body.code ? ` (${body.code})` : ''}`);
    return EXIT.failed;
  }
  // The API stopped waiting first: follow the job to its end.
  const view = await waitForJob(api, body.jobId, { timeoutMs });
  if (view.state === 'completed' && view.result) return view.result as PasswordReset;
  if (view.state === 'failed') io.err(`error: ${view.error?.message ?? 'failed'} (${view.error?.code ?? 'INTERNAL'})`);
  else if (!finished(view)) io.err(`still ${view.state} after the timeout: the job goes on (provisioner status ${body.jobId} --wait shows the password)`);
  return finished(view) ? EXIT.failed : EXIT.timedOut;
}
