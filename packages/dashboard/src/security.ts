import { createHmac, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';

/** The cookie a browser gets for the token; its value is derived from the token, never the token itself. */
export const SESSION_COOKIE = 'utt_session';

/** Host names every dashboard answers to: a DNS-rebinding page arrives with its own name and gets 403. */
export const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '::1'] as const;

/** True for 127.0.0.0/8, ::1, ::ffff:127.x and `localhost`. */
export function isLoopbackAddress(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (bare === 'localhost' || bare.endsWith('.localhost')) return true;
  if (bare === '::1') return true;
  const v4 = bare.startsWith('::ffff:') ? bare.slice(7) : bare;
  return isIP(v4) === 4 && v4.startsWith('127.');
}

/** The host name of a Host header value, without port and brackets; null when malformed. */
export function hostName(hostHeader: string | null): string | null {
  if (hostHeader === null || hostHeader === '') return null;
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:\[\]]+)(?::(\d{1,5}))?$/.exec(hostHeader.trim());
  if (!match?.[1]) return null;
  return match[1].replace(/^\[|\]$/g, '').toLowerCase();
}

/** Whether a Host header names this dashboard: a loopback name, a `*.localhost` name, or one of `allowedHosts`. */
export function isAllowedHost(hostHeader: string | null, allowedHosts: readonly string[]): boolean {
  const name = hostName(hostHeader);
  if (name === null) return false;
  if ((LOOPBACK_HOSTS as readonly string[]).includes(name) || name.endsWith('.localhost')) return true;
  return allowedHosts.some((allowed) => allowed.toLowerCase().replace(/^\[|\]$/g, '') === name);
}

export function sessionValue(token: string): string {
  return createHmac('sha256', token).update('utt-dashboard-session-v1').digest('hex');
}

export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

export function readCookie(cookieHeader: string | null, name: string): string | null {
  if (!cookieHeader) return null;
  for (const part of cookieHeader.split(';')) {
    const index = part.indexOf('=');
    if (index > 0 && part.slice(0, index).trim() === name) return part.slice(index + 1).trim();
  }
  return null;
}

export type AuthResult =
  | { readonly kind: 'ok' }
  | { readonly kind: 'exchange'; readonly location: string; readonly cookie: string }
  | { readonly kind: 'missing' }
  | { readonly kind: 'wrong' };

/**
 * With a token configured: a bearer header (curl, scripts), the session
 * cookie (browsers), or `?token=` once, which is swapped for the cookie and a
 * redirect to the same URL without it, so the token leaves the address bar.
 */
export function authenticate(request: Request, url: URL, token: string, cookiePath: string): AuthResult {
  const authorization = request.headers.get('authorization');
  if (authorization !== null) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    return match?.[1] && safeEqual(match[1], token) ? { kind: 'ok' } : { kind: 'wrong' };
  }
  const offered = url.searchParams.get('token');
  if (offered !== null) {
    if (!safeEqual(offered, token)) return { kind: 'wrong' };
    const clean = new URL(url);
    clean.searchParams.delete('token');
    const secure = url.protocol === 'https:' ? '; Secure' : '';
    return {
      kind: 'exchange',
      location: `${clean.pathname}${clean.search}`,
      cookie: `${SESSION_COOKIE}=${sessionValue(token)}; HttpOnly; SameSite=Strict; Path=${cookiePath}${secure}`,
    };
  }
  const cookie = readCookie(request.headers.get('cookie'), SESSION_COOKIE);
  if (cookie === null) return { kind: 'missing' };
  return safeEqual(cookie, sessionValue(token)) ? { kind: 'ok' } : { kind: 'wrong' };
}

/** Sent with every answer: no framing, no referrer (a token may be in a URL), nothing runs but our own CSS. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
  'cross-origin-resource-policy': 'same-origin',
};
