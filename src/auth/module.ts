import type { Clock } from '../platform/clock.ts';
import type { Db } from '../platform/db/database.ts';
import type { DomainModule } from '../platform/module.ts';
import { ApiKeys } from './api-keys.ts';
import { authRoutes } from './auth-routes.ts';
import { type Authenticator, createAuthenticator } from './authenticator.ts';
import { UploadTokens } from './upload-tokens.ts';

export interface AuthDeps {
  db: Db;
  clock: Clock;
  /** UPLOAD_TOKEN_TTL_SECONDS. */
  uploadTokenTtlSeconds: number;
  /** RATE_LIMIT_UPLOAD_TOKENS_PER_MINUTE: tokens one key may mint a minute. */
  tokensPerMinute: number;
}

export interface Auth extends DomainModule {
  apiKeys: ApiKeys;
  uploadTokens: UploadTokens;
  /** The preHandlers every domain's routes use, and the rate-limit bucket of a request. */
  authenticator: Authenticator;
}

/** Who is calling: API keys (with roles), short-lived upload tokens, the request authenticator. */
export function createAuth(deps: AuthDeps): Auth {
  const apiKeys = new ApiKeys(deps.db, deps.clock);
  const uploadTokens = new UploadTokens(deps.db, deps.uploadTokenTtlSeconds, deps.clock);
  const authenticator = createAuthenticator(apiKeys, uploadTokens);
  return {
    apiKeys,
    uploadTokens,
    authenticator,
    routes: (app) =>
      authRoutes(app, { tokens: uploadTokens, auth: authenticator, tokensPerMinute: deps.tokensPerMinute }),
  };
}
