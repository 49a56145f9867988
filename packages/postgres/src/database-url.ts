/**
 * What may be shown of a connection URL in a message: scheme, user, host, port
 * and database. The password and the query string (which can carry
 * `password=` or `sslpassword=`) are left out.
 */
export function describeDatabaseUrl(url: string): string {
  const parsed = parseUrl(url);
  if (parsed === undefined) return '(a URL that could not be parsed)';
  const user = parsed.username === '' ? '' : `${parsed.username}@`;
  return `${parsed.protocol}//${user}${parsed.host}${parsed.pathname}`;
}

/** The strings of `url` that must never appear in a message: the URL itself and every password in it. */
export function databaseUrlSecrets(url: string): string[] {
  const secrets = [url];
  const parsed = parseUrl(url);
  if (parsed === undefined) {
    // Unparseable: fall back to whatever sits between `user:` and `@`.
    const match = /:\/\/[^:/@]*:([^@]+)@/.exec(url);
    if (match?.[1]) secrets.push(match[1]);
    return secrets;
  }
  const passwords = [parsed.password, parsed.searchParams.get('password'), parsed.searchParams.get('sslpassword')];
  for (const password of passwords) {
    if (!password) continue;
    secrets.push(password, safeDecode(password), encodeURIComponent(password));
  }
  return secrets;
}

function parseUrl(url: string): URL | undefined {
  try {
    return new URL(url);
  } catch {
    return undefined;
  }
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
