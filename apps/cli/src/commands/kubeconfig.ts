import { writeFileSync } from 'node:fs';
import { ApiError, type ApiClient } from '../api-client.js';
import { EXIT, type CliIo } from '../io.js';

/**
 * `provisioner kubeconfig <username> [-o file]`: the trainee's kubeconfig from
 * `GET /trainees/{username}/kubeconfig` (YAML), on stdout or into a file (mode 0600, as
 * kubeconfigs are kept; it holds no secret, but says where the cluster is).
 */
export async function kubeconfigCommand(api: ApiClient, io: CliIo, username: string, output: string | undefined): Promise<number> {
  const response = await api.call('GET', `trainees/${encodeURIComponent(username)}/kubeconfig`, undefined, { accept: 'application/yaml' });
  if (response.status !== 200 || typeof response.body !== 'string') {
    const message = (response.body as { message?: string } | undefined)?.message ?? `HTTP ${response.status}`;
    throw new ApiError(response.status, `kubeconfig of ${username}: ${message}`);
  }
  if (output === undefined || output === '-') {
    io.out(response.body.trimEnd());
    return EXIT.ok;
  }
  writeFileSync(output, response.body, { mode: 0o600 });
  io.err(`wrote ${output} (use it with: export KUBECONFIG=${output})`);
  return EXIT.ok;
}
