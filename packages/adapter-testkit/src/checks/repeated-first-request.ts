import type { RecordedRequest } from '../start-fake-server';

/** Whether the first request of a run was sent again later (same method and URL). */
export function repeatedFirstRequest(requests: readonly RecordedRequest[]): boolean {
  const [first, ...rest] = requests;
  if (!first) return false;
  return rest.some((request) => request.method === first.method && request.url.href === first.url.href);
}
