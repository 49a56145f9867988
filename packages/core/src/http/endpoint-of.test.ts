import { describe, expect, it } from 'vitest';
import { endpointOf } from './endpoint-of';

describe('endpointOf', () => {
  it('keeps origin and path only: no userinfo, query string or fragment', () => {
    expect(endpointOf('https://admin:s3cret@api.example.com:8443/v1/usage?api_key=abc&x=1#frag')).toBe(
      'https://api.example.com:8443/v1/usage',
    );
    expect(endpointOf(new URL('http://127.0.0.1:9090/api/v1/query_range?query=up'))).toBe('http://127.0.0.1:9090/api/v1/query_range');
  });

  it('drops the default port and keeps a bare origin with its slash', () => {
    expect(endpointOf('https://api.example.com:443')).toBe('https://api.example.com/');
  });

  it('does not echo an invalid URL', () => {
    expect(endpointOf('not a url with secret')).toBe('(invalid URL)');
  });
});
