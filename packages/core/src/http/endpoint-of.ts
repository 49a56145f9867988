/** Origin and path of a URL: no credentials, no query string, no fragment. */
export function endpointOf(url: string | URL): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}
