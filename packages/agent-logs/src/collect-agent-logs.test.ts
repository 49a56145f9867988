import { describe, expect, it } from 'vitest';
import { toAgentUsageRecords } from './collect-agent-logs';
import type { LedgerCell } from './usage-ledger';

const hour = new Date('2026-03-01T10:00:00Z');
const cell = (labels: Record<string, string>, input: number): LedgerCell => ({ bucketStart: hour, model: 'm', labels, tokens: [input, 1, null, null, null, null, 1] });
const defaults = { billing: 'api' as const, labels: {}, sessionLabel: true };
const rows = (cells: LedgerCell[], config: Partial<typeof defaults> = {}) =>
  toAgentUsageRecords(cells, { provider: 'p', instance: 'box', config: { ...defaults, ...config } }).map((record) => [record.labels, record.input_tokens, record.requests]);

describe('toAgentUsageRecords', () => {
  it('writes a row per cell', () => {
    expect(rows([cell({ project: 'a', session: 's1' }, 5), cell({ project: 'a', session: 's2' }, 7)])).toEqual([
      [{ project: 'a', session: 's1' }, 5, 1],
      [{ project: 'a', session: 's2' }, 7, 1],
    ]);
  });

  it('merges cells that become twins once their labels are written', () => {
    // Without the session label.
    expect(rows([cell({ project: 'a', session: 's1' }, 5), cell({ project: 'a', session: 's2' }, 7)], { sessionLabel: false })).toEqual([[{ project: 'a' }, 12, 2]]);
    // An empty label is left out.
    expect(rows([cell({ project: '', session: 's1' }, 5), cell({ session: 's1' }, 7)])).toEqual([[{ session: 's1' }, 12, 2]]);
    // A label from the config fills in what one cell lacks.
    expect(rows([cell({ project: 'a', session: 's1' }, 5), cell({ session: 's1' }, 7)], { labels: { project: 'a' } })).toEqual([[{ project: 'a', session: 's1' }, 12, 2]]);
  });
});
