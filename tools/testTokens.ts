import { type IssuerKey, issueToken, type TokenRequest } from '../server/src/auth/tokenIssuer.js';

/** What a test or a benchmark says about a participant; the rest has defaults. */
export type TestTokenRequest = Partial<TokenRequest> & Pick<TokenRequest, 'room' | 'role'>;

/** A token for a local participant: valid one hour, named after its role and id unless given. */
export function mintTestToken(key: IssuerKey, request: TestTokenRequest): string {
  return issueToken(key, { name: `${request.role} ${request.sub ?? ''}`.trim(), ttlSeconds: 3600, ...request });
}
