/**
 * What the page says when the server refuses the link: decided on the refusal's stable reason,
 * never on the server's text, in the page's own words.
 */
import { REFUSAL_REASONS, type RefusalReason } from '../../../server/src/domain/sessionEnd.js';
import type { MessageKey } from '../i18n/messages.js';

export interface RefusalWords {
  title: MessageKey;
  body: MessageKey;
  /** The link is fine, the moment is not: offer to try again (and keep the link). */
  retry: boolean;
}

const WORDS: Record<RefusalReason, RefusalWords> = {
  'token-missing': { title: 'badTokenTitle', body: 'badTokenBody', retry: false },
  'token-invalid': { title: 'badTokenTitle', body: 'badTokenBody', retry: false },
  expired: { title: 'expiredTokenTitle', body: 'expiredTokenBody', retry: false },
  revoked: { title: 'badTokenTitle', body: 'revokedTokenBody', retry: false },
  'lifetime-too-long': { title: 'badTokenTitle', body: 'lifetimeTooLongBody', retry: false },
  'rate-limited': { title: 'connectFailed', body: 'rateLimitedBody', retry: true },
  'server-shutdown': { title: 'connectFailed', body: 'serverShutdownBody', retry: true },
};

/**
 * A server that does not say why (or says something this page does not know) refused the link
 * itself: said as an invalid link, or an expired one when the link's own `exp` is past.
 */
export function refusalWords(reason: string | undefined, expiredByClaims: boolean): RefusalWords {
  if (isRefusalReason(reason)) return WORDS[reason];
  return expiredByClaims ? WORDS.expired : WORDS['token-invalid'];
}

function isRefusalReason(reason: string | undefined): reason is RefusalReason {
  return (REFUSAL_REASONS as readonly (string | undefined)[]).includes(reason);
}
