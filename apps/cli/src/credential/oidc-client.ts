import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import * as oidc from 'openid-client';
import type { CachedTokens } from './token-cache.js';

/**
 * The OIDC side of `provisioner credential`, over openid-client: discovery, the device
 * authorization grant (RFC 8628, its polling honours `interval` and `slow_down`), the
 * password grant, refresh, and a check of an ID token's signature and claims against the
 * issuer's keys (jose) before a cached one is handed to kubectl.
 */

export interface OidcClientOptions {
  issuer: string;
  clientId: string;
  /** Accept an `http://` issuer: unit tests' stand-in only. */
  allowHttp?: boolean;
}

export interface DevicePrompt {
  verificationUri: string;
  verificationUriComplete?: string;
  userCode: string;
  expiresIn: number;
}

/** A login that cannot go on, with a message for the person at the terminal. */
export class LoginError extends Error {
  constructor(message: string, readonly code?: string) {
    super(message);
    this.name = 'LoginError';
  }
}

export interface VerifiedToken {
  /** Seconds since the epoch. */
  exp: number;
  username?: string;
}

const SCOPE = 'openid';

/** What an OAuth error from the token endpoint means to a person. */
function loginError(error: unknown, grant: string): LoginError {
  if (error instanceof oidc.ResponseBodyError) {
    const reason = error.error_description ? `${error.error}: ${error.error_description}` : error.error;
    const hints: Record<string, string> = {
      expired_token: 'the code was not entered in time; run the command again for a new one',
      access_denied: 'the login was refused in the browser',
      invalid_grant: grant === 'password' ? 'the username or password was refused' : 'the session is over; log in again',
      unauthorized_client: `the client does not allow the ${grant} grant (ask the platform team to enable it in Keycloak)`,
    };
    return new LoginError(`${grant} login failed: ${hints[error.error] ?? reason} (${reason})`, error.error);
  }
  return new LoginError(`${grant} login failed: ${error instanceof Error ? error.message : String(error)}`);
}

/** Node's codes for a certificate chain it cannot check: a private CA, most often. */
const UNTRUSTED_CERTIFICATE = /UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT/;
const PRIVATE_CA_HINT = ' (Keycloak on a private CA? export NODE_EXTRA_CA_CERTS=/path/to/ca.pem and try again)';

export class OidcClient {
  private readonly jwks: ReturnType<typeof createRemoteJWKSet>;

  private constructor(
    private readonly config: oidc.Configuration,
    private readonly options: OidcClientOptions,
  ) {
    const jwksUri = config.serverMetadata().jwks_uri;
    if (!jwksUri) throw new LoginError(`${options.issuer} publishes no jwks_uri`);
    this.jwks = createRemoteJWKSet(new URL(jwksUri));
  }

  static async discover(options: OidcClientOptions): Promise<OidcClient> {
    try {
      const config = await oidc.discovery(new URL(options.issuer), options.clientId, undefined, oidc.None(), {
        ...(options.allowHttp ? { execute: [oidc.allowInsecureRequests] } : {}),
      });
      return new OidcClient(config, options);
    } catch (error) {
      if (error instanceof LoginError) throw error;
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const reason = cause?.code ?? cause?.message ?? (error as Error).message;
      throw new LoginError(`cannot reach the issuer ${options.issuer}: ${reason}${UNTRUSTED_CERTIFICATE.test(reason) ? PRIVATE_CA_HINT : ''}`);
    }
  }

  private static tokens(response: oidc.TokenEndpointResponse): CachedTokens {
    if (!response.id_token) throw new LoginError('the issuer answered without an ID token (is the openid scope allowed?)');
    return { idToken: response.id_token, ...(response.refresh_token ? { refreshToken: response.refresh_token } : {}) };
  }

  async password(username: string, password: string): Promise<CachedTokens> {
    try {
      return OidcClient.tokens(await oidc.genericGrantRequest(this.config, 'password', { username, password, scope: SCOPE }));
    } catch (error) {
      throw loginError(error, 'password');
    }
  }

  /** Starts a device login, tells the person where to type the code, and polls until they did. */
  async device(prompt: (p: DevicePrompt) => void, signal?: AbortSignal): Promise<CachedTokens> {
    try {
      // PKCE on the device grant too: Keycloak asks for it from a client that requires PKCE
      // (ours does, for kubelogin's browser flow); a server that does not know it ignores it.
      const verifier = oidc.randomPKCECodeVerifier();
      const challenge = await oidc.calculatePKCECodeChallenge(verifier);
      const started = await oidc.initiateDeviceAuthorization(this.config, { scope: SCOPE, code_challenge: challenge, code_challenge_method: 'S256' });
      prompt({
        verificationUri: started.verification_uri,
        ...(started.verification_uri_complete ? { verificationUriComplete: started.verification_uri_complete } : {}),
        userCode: started.user_code,
        expiresIn: started.expires_in,
      });
      return OidcClient.tokens(await oidc.pollDeviceAuthorizationGrant(this.config, started, { code_verifier: verifier }, signal ? { signal } : undefined));
    } catch (error) {
      if (error instanceof LoginError) throw error;
      throw loginError(error, 'device');
    }
  }

  async refresh(refreshToken: string): Promise<CachedTokens> {
    try {
      const refreshed = OidcClient.tokens(await oidc.refreshTokenGrant(this.config, refreshToken, { scope: SCOPE }));
      // Keycloak may not rotate the refresh token: keep the one we have then.
      return { refreshToken, ...refreshed };
    } catch (error) {
      throw loginError(error, 'refresh');
    }
  }

  /**
   * The ID token's expiry and username when its signature, issuer and audience hold against
   * the issuer's published keys; undefined when they do not (tampered, another issuer, a
   * rotated key) or it has expired. A network failure is an error, not a bad token.
   */
  async verify(idToken: string): Promise<VerifiedToken | undefined> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(idToken, this.jwks, { issuer: this.options.issuer, audience: this.options.clientId }));
    } catch (error) {
      if (error instanceof joseErrors.JOSEError && !(error instanceof joseErrors.JWKSTimeout)) return undefined;
      throw error;
    }
    if (typeof payload.exp !== 'number') return undefined;
    const username = typeof payload.preferred_username === 'string' ? payload.preferred_username : undefined;
    return { exp: payload.exp, ...(username ? { username } : {}) };
  }
}
