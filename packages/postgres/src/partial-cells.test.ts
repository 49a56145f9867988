import { describe, expect, it } from 'vitest';
import type { UsageEvent } from './import-usage-events';
import { partialCellChunks } from './partial-cells';

function event(line: number, user: string): UsageEvent {
  return {
    line,
    granularity: 'hour',
    bucket_start: new Date('2026-10-01T13:00:00Z'),
    provider: 'openai',
    model: 'gpt-4o',
    account: '',
    api_key: '',
    user_id: user,
    labels: {},
    input_tokens: 1,
    output_tokens: 1,
    cached_read_tokens: null,
    cached_write_tokens: null,
    cached_write_1h_tokens: null,
    reasoning_tokens: null,
    requests: 1,
    cost_usd: null,
    measurement_basis: 'exact',
  };
}

async function run(users: readonly string[], limit: number): Promise<{ rows: number; mayRepeat: boolean }> {
  let mayRepeat = false;
  let rows = 0;
  async function* events(): AsyncGenerator<UsageEvent[]> {
    yield users.map((user, index) => event(index + 2, user));
  }
  for await (const chunk of partialCellChunks(events(), limit, () => {}, () => {
    mayRepeat = true;
  })) {
    rows += chunk.split('\n').length - 1;
  }
  return { rows, mayRepeat };
}

describe('partialCellChunks', () => {
  it('says when a cell is met again after its partial sum was spilled, and only then', async () => {
    // Each cell in one stretch of the file: spilled every 3 cells, never met again.
    const sorted = Array.from({ length: 5_000 }, (_, index) => `u${Math.floor(index / 2)}`);
    expect(await run(sorted, 3)).toEqual({ rows: 2_500, mayRepeat: false });
    // u0 again after a spill: its cell has two partial sums.
    expect(await run(['u0', 'u1', 'u2', 'u3', 'u0'], 2)).toEqual({ rows: 5, mayRepeat: true });
    // Met again before any spill: summed in memory, one partial sum.
    expect(await run(['u0', 'u1', 'u0'], 10)).toEqual({ rows: 2, mayRepeat: false });
    // Every cell of a large file met twice, far apart.
    const twice = Array.from({ length: 20_000 }, (_, index) => `u${index % 10_000}`);
    expect(await run(twice, 1_000)).toEqual({ rows: 20_000, mayRepeat: true });
  });
});
