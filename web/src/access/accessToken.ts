/**
 * The access token travels in the link's fragment (never sent to a server, so never in an
 * access log). It is taken out of the address bar at once and kept for this tab only, so a
 * reload or a retry still works.
 */
import type { Role } from '../../../server/src/signalling/catalog.js';

const STORAGE_KEY = 'relais.token';

export interface TokenClaims {
  name: string;
  room: string;
  role: Role;
  /** Seconds since the epoch. */
  exp: number | undefined;
}

export function takeToken(): string | undefined {
  const params = new URLSearchParams(location.hash.replace(/^#/, ''));
  const fromLink = params.get('token') ?? undefined;
  if (fromLink) {
    history.replaceState(null, '', location.pathname + location.search);
    try {
      sessionStorage.setItem(STORAGE_KEY, fromLink);
    } catch {
      // Without storage a reload needs the link again: acceptable.
    }
    return fromLink;
  }
  try {
    return sessionStorage.getItem(STORAGE_KEY) ?? undefined;
  } catch {
    return undefined;
  }
}

export function forgetToken(): void {
  try {
    sessionStorage.removeItem(STORAGE_KEY);
  } catch {
    // Nothing stored.
  }
}

function base64UrlDecode(text: string): string {
  const base64 = text
    .replace(/-/g, '+')
    .replace(/_/g, '/')
    .padEnd(Math.ceil(text.length / 4) * 4, '=');
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

/**
 * Reads the claims to greet the person by name before connecting. Not a verification:
 * the server verifies the signature and decides.
 */
export function readClaims(token: string): TokenClaims | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const claims = JSON.parse(base64UrlDecode(payload)) as Record<string, unknown>;
    const role = claims.role;
    if (typeof claims.name !== 'string' || typeof claims.room !== 'string') return undefined;
    if (role !== 'moderator' && role !== 'speaker' && role !== 'listener') return undefined;
    return { name: claims.name, room: claims.room, role, exp: typeof claims.exp === 'number' ? claims.exp : undefined };
  } catch {
    return undefined;
  }
}
