import { LoginError, OidcClient, type DevicePrompt } from '../credential/oidc-client.js';
import { cacheFile, dropCache, readCache, writeCache, type CachedTokens } from '../credential/token-cache.js';
import { EXIT, UsageError, type CliIo } from '../io.js';

/**
 * `provisioner credential`: a kubectl exec credential plugin (client.authentication.k8s.io).
 * kubectl runs it when it needs a token; it answers an ExecCredential on stdout with the
 * trainee's ID token, from the cache while it is valid, else refreshed, else after a login:
 * the password grant when PROVISIONER_PASSWORD is set (scripts), the device authorization
 * grant otherwise (a link and a code on stderr, typed in any browser).
 */

export interface CredentialOptions {
  issuer: string | undefined;
  clientId: string | undefined;
  username: string | undefined;
  allowHttp?: boolean;
}

const API_VERSIONS = ['client.authentication.k8s.io/v1', 'client.authentication.k8s.io/v1beta1'];
/** A token this close to its expiry is not handed out: kubectl's requests would race it. */
const EXPIRY_MARGIN_SECONDS = 10;
export const PASSWORD_ENV = 'PROVISIONER_PASSWORD';

/** The apiVersion kubectl asked for in KUBERNETES_EXEC_INFO (v1 when run by hand). */
export function requestedApiVersion(env: NodeJS.ProcessEnv): string {
  const raw = env.KUBERNETES_EXEC_INFO;
  if (!raw) return API_VERSIONS[0] as string;
  let info: { apiVersion?: unknown };
  try {
    info = JSON.parse(raw) as { apiVersion?: unknown };
  } catch {
    throw new UsageError('KUBERNETES_EXEC_INFO is not JSON');
  }
  if (typeof info.apiVersion !== 'string' || !API_VERSIONS.includes(info.apiVersion)) {
    throw new UsageError(`KUBERNETES_EXEC_INFO asks for apiVersion ${String(info.apiVersion)}; this plugin speaks ${API_VERSIONS.join(', ')}`);
  }
  return info.apiVersion;
}

export function execCredential(apiVersion: string, token: string, exp: number): string {
  return JSON.stringify({ apiVersion, kind: 'ExecCredential', status: { token, expirationTimestamp: new Date(exp * 1000).toISOString() } });
}

function showDevicePrompt(io: CliIo, p: DevicePrompt): void {
  const minutes = Math.max(1, Math.round(p.expiresIn / 60));
  io.err(`To log in, open ${p.verificationUri} in a browser and enter the code ${p.userCode}` +
    (p.verificationUriComplete ? `\n(or open ${p.verificationUriComplete} directly)` : '') +
    `\nThe code is valid for ${minutes} minute(s). Waiting…`);
}

export async function credentialCommand(io: CliIo, options: CredentialOptions): Promise<number> {
  const { issuer, clientId, username } = options;
  if (!issuer || !clientId) throw new UsageError('credential needs --issuer and --client-id (the kubeconfig gives them)');
  const apiVersion = requestedApiVersion(io.env);
  const file = cacheFile(io.env, { issuer, clientId, username });
  const client = await OidcClient.discover({ issuer, clientId, ...(options.allowHttp ? { allowHttp: true } : {}) });
  const now = () => Math.floor(Date.now() / 1000);

  /** The token if it is genuine, for this user, and not about to expire. */
  const usable = async (tokens: CachedTokens) => {
    const verified = await client.verify(tokens.idToken);
    if (!verified || verified.exp <= now() + EXPIRY_MARGIN_SECONDS) return undefined;
    if (username && verified.username !== username) return undefined;
    return verified;
  };

  const cached = readCache(file);
  if (cached) {
    const valid = await usable(cached);
    if (valid) {
      io.out(execCredential(apiVersion, cached.idToken, valid.exp));
      return EXIT.ok;
    }
    if (cached.refreshToken) {
      try {
        const refreshed = await client.refresh(cached.refreshToken);
        const fresh = await usable(refreshed);
        if (fresh) {
          writeCache(file, refreshed);
          io.out(execCredential(apiVersion, refreshed.idToken, fresh.exp));
          return EXIT.ok;
        }
      } catch (error) {
        if (!(error instanceof LoginError)) throw error;
        io.err(`${error.message}; logging in again`);
      }
    }
    dropCache(file);
  }

  const password = io.env[PASSWORD_ENV];
  let tokens: CachedTokens;
  if (password) {
    if (!username) throw new UsageError(`${PASSWORD_ENV} needs --username (the kubeconfig gives it)`);
    tokens = await client.password(username, password);
  } else {
    tokens = await client.device((p) => showDevicePrompt(io, p));
  }
  const verified = await client.verify(tokens.idToken);
  if (!verified) throw new LoginError('the issuer gave an ID token that does not verify against its own keys');
  if (username && verified.username !== username) {
    throw new LoginError(`you logged in as ${verified.username ?? 'someone else'}, but this kubeconfig is for ${username}: log in as ${username}`);
  }
  writeCache(file, tokens);
  io.out(execCredential(apiVersion, tokens.idToken, verified.exp));
  return EXIT.ok;
}
