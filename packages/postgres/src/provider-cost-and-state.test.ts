import { InvalidRecordError, StateJsonText, toProviderCostRow } from '@utt/core';
import { beforeEach, describe, expect, it } from 'vitest';
import { clearTables, TEST_BACKENDS, useTestStore } from './test-support/test-backends';
import { usageRow } from './test-support/usage-rows';
import type { UsageStore } from './usage-store';

const SOURCE = 'anthropic-main';
const SYSTEM = 'test_system';

const cost = (overrides: Record<string, unknown> = {}) =>
  toProviderCostRow(
    { bucket_start: '2026-10-01T00:00:00Z', provider: 'anthropic', model: 'claude-sonnet-4-5', line_item: 'tokens', amount_usd: '12.3456', ...overrides },
    { sourceSystem: SYSTEM, defaultInstance: SOURCE },
  );

async function costs(store: UsageStore) {
  return store.client.query<{ bucket_start: Date; line_item: string; amount_usd: string; created_at: Date }>(
    `SELECT bucket_start, line_item, amount_usd, created_at FROM "${store.schema}".provider_cost ORDER BY bucket_start, line_item`,
  );
}

describe.each(TEST_BACKENDS)('provider costs and source state on $name', (backend) => {
  const store = useTestStore(backend);
  beforeEach(() => clearTables(store()));

  it('writes billed amounts with the rows and replaces a revised day instead of adding to it', async () => {
    await store().writeSourceWindow({
      source: SOURCE,
      sourceSystem: SYSTEM,
      rows: [usageRow({ bucket_start: new Date('2026-10-01T00:00:00Z') })],
      providerCosts: [cost(), cost({ line_item: 'web_search', amount_usd: -0.5 })],
    });
    const first = await costs(store());
    expect(first.map(({ line_item, amount_usd }) => [line_item, amount_usd])).toEqual([
      ['tokens', '12.3456'],
      ['web_search', '-0.5'],
    ]);
    await store().writeSourceWindow({ source: SOURCE, sourceSystem: SYSTEM, rows: [], providerCosts: [cost({ amount_usd: '13.000000000000000001' })] });
    const second = await costs(store());
    expect(second.map(({ line_item, amount_usd }) => [line_item, amount_usd])).toEqual([
      ['tokens', '13.000000000000000001'],
      ['web_search', '-0.5'],
    ]);
    expect(second[0]?.created_at).toEqual(first[0]?.created_at);
  });

  it('refuses two costs with one key, and a cost from another source_system, before writing anything', async () => {
    await expect(
      store().writeSourceWindow({ source: SOURCE, sourceSystem: SYSTEM, rows: [usageRow()], providerCosts: [cost(), cost()] }),
    ).rejects.toSatisfy((error) => InvalidRecordError.isInstance(error) && /providerCosts\[1\]/.test(error.message));
    await expect(
      store().writeSourceWindow({ source: SOURCE, sourceSystem: 'other', rows: [], providerCosts: [cost()] }),
    ).rejects.toThrow(/providerCosts\[0\]\.source_system/);
    expect(await costs(store())).toEqual([]);
  });

  it('stores state changes with the rows and loads them back; deleted keys disappear', async () => {
    await store().writeSourceWindow({
      source: SOURCE,
      sourceSystem: SYSTEM,
      rows: [],
      state: { set: new Map<string, unknown>([['file:/a.jsonl', { offset: 120, inode: 7 }], ['file:/b.jsonl', { offset: 9 }]]), deleted: [] },
    });
    expect(await store().loadSourceState(SOURCE)).toEqual(
      new Map([
        ['file:/a.jsonl', { offset: 120, inode: 7 }],
        ['file:/b.jsonl', { offset: 9 }],
      ]),
    );
    // Stored as json (0011): an object's keys come back in the order written, where jsonb ordered them by length.
    expect(Object.keys((await store().loadSourceState(SOURCE)).get('file:/a.jsonl') as object)).toEqual(['offset', 'inode']);
    await store().writeSourceWindow({
      source: SOURCE,
      sourceSystem: SYSTEM,
      rows: [],
      state: { set: new Map([['file:/a.jsonl', { offset: 300, inode: 7 }]]), deleted: ['file:/b.jsonl'] },
    });
    expect(await store().loadSourceState(SOURCE)).toEqual(new Map([['file:/a.jsonl', { offset: 300, inode: 7 }]]));
    expect(await store().loadSourceState('another-source')).toEqual(new Map());
  });

  it('stores any key and JSON value as given, __proto__ and thousands of keys included', async () => {
    const values = new Map<string, unknown>([
      ['__proto__', { polluted: false }],
      ['quote " backslash \\ newline \n', 'text "with" \\ escapes'],
      ['unicode ü 😀', [1, 'two', null, { three: 3.5 }]],
      ['number', 12_345_678_901],
      ['null', null],
      ['false', false],
    ]);
    for (let index = 0; index < 6_000; index += 1) values.set(`shard/${index}`, `v${index}`);
    await store().writeSourceWindow({ source: SOURCE, sourceSystem: SYSTEM, rows: [], state: { set: values, deleted: [] } });
    const loaded = await store().loadSourceState(SOURCE);
    expect(loaded.size).toBe(values.size);
    for (const [key, value] of values) expect(loaded.get(key)).toEqual(value);
  });

  it('stores values staged as JSON text (a string or UTF-8 bytes) as the values they hold, among values staged as values', async () => {
    const hour = { c: [['["claude-sonnet-4-5",{"project":"caf\u00e9 \\ \"x\""}]', 1]], e: 'k,,0,,0,1,2,3,4,,,5' };
    const text = JSON.stringify(hour);
    const set = new Map<string, unknown>([
      ['hour/1', new StateJsonText(text)],
      ['hour/2', new StateJsonText(Buffer.from(text))],
      ['unicode ü 😀', new StateJsonText('"é 😀 \\t"')],
      ['plain', { offset: 3 }],
      ['number', new StateJsonText(' 12345678901 ')],
      ['null', new StateJsonText('null')],
    ]);
    // Enough keys for two statements, texts and values in both.
    for (let index = 0; index < 6_000; index += 1) set.set(`ix/${index}`, index % 2 === 0 ? `v${index}` : new StateJsonText(JSON.stringify(`t${index}`)));
    await store().writeSourceWindow({ source: SOURCE, sourceSystem: SYSTEM, rows: [usageRow()], state: { set, deleted: [] } });
    const loaded = await store().loadSourceState(SOURCE);
    expect(loaded.size).toBe(set.size);
    for (const [key, value] of set) expect(loaded.get(key)).toEqual(StateJsonText.isInstance(value) ? value.value() : value);
    expect(loaded.get('hour/2')).toEqual(hour);
    expect(loaded.get('unicode ü 😀')).toBe('é 😀 \t');
  });

  it('stores values staged as bytes that lie framed one after another in a block (as the agent-log adapters stage hours)', async () => {
    // Each text after its length, as AsciiWriter.takeBytes (@utt/agent-logs) leaves them: sent from the block as it is.
    const values = Array.from({ length: 40 }, (_, index) => ({ c: [[`["m",{"session":"s${index}"}]`, index % 2]], e: 'k'.repeat(3000 + index) }));
    const texts = values.map((value) => JSON.stringify(value));
    const block = Buffer.allocUnsafeSlow(texts.reduce((sum, text) => sum + 4 + text.length, 0));
    let at = 0;
    const set = new Map<string, unknown>([['cursor', { offset: 1 }]]);
    texts.forEach((text, index) => {
      block.writeUInt32BE(text.length, at);
      block.write(text, at + 4, 'latin1');
      set.set(`hour/${index}`, new StateJsonText(block.subarray(at + 4, at + 4 + text.length)));
      at += 4 + text.length;
    });
    set.set('after', new StateJsonText('"é"'));
    await store().writeSourceWindow({ source: SOURCE, sourceSystem: SYSTEM, rows: [usageRow()], state: { set, deleted: [] } });
    const loaded = await store().loadSourceState(SOURCE);
    expect(loaded.size).toBe(set.size);
    values.forEach((value, index) => expect(loaded.get(`hour/${index}`)).toEqual(value));
    expect(loaded.get('cursor')).toEqual({ offset: 1 });
    expect(loaded.get('after')).toBe('é');
  });

  it('refuses a value staged as text that is not one JSON value, naming its key, and writes nothing', async () => {
    for (const bad of ['{"c":', '1,2', '']) {
      await expect(
        store().writeSourceWindow({
          source: SOURCE,
          sourceSystem: SYSTEM,
          rows: [usageRow()],
          state: { set: new Map<string, unknown>([['fine', new StateJsonText('1')], ['broken', new StateJsonText(bad)]]), deleted: [] },
        }),
      ).rejects.toThrow(/state\["broken"\]: the JSON text staged for it is not one JSON value/);
    }
    expect(await store().loadSourceState(SOURCE)).toEqual(new Map());
    const [count] = await store().client.query<{ rows: number }>(`SELECT count(*)::int AS rows FROM "${store().schema}".token_usage`);
    expect(count).toEqual({ rows: 0 });
  });

  it('loads only the selected keys and prefixes, a prefix taken literally (% and _ are not wildcards)', async () => {
    const values: Array<[string, unknown]> = [
      ['agent/m1/file/a', { offset: 1 }],
      ['agent/m1/file/b', { offset: 2 }],
      ['agent/m1/hour/100', 'x'],
      ['agent/m1/meta', { sealed: null }],
      ['agent/m_/file/c', { offset: 3 }],
      ['agent/m%/file/d', { offset: 4 }],
    ];
    await store().writeSourceWindow({ source: SOURCE, sourceSystem: SYSTEM, rows: [], state: { set: new Map(values), deleted: [] } });
    await store().writeSourceWindow({ source: 'another-source', sourceSystem: SYSTEM, rows: [], state: { set: new Map([['agent/m1/meta', 0]]), deleted: [] } });
    expect(await store().loadSourceState(SOURCE, { keys: ['agent/m1/meta', 'agent/m1/none'], prefixes: ['agent/m1/file/'] })).toEqual(
      new Map<string, unknown>([
        ['agent/m1/file/a', { offset: 1 }],
        ['agent/m1/file/b', { offset: 2 }],
        ['agent/m1/meta', { sealed: null }],
      ]),
    );
    expect([...(await store().loadSourceState(SOURCE, { prefixes: ['agent/m_/'] })).keys()]).toEqual(['agent/m_/file/c']);
    expect([...(await store().loadSourceState(SOURCE, { prefixes: ['agent/m%'] })).keys()]).toEqual(['agent/m%/file/d']);
    expect(await store().loadSourceState(SOURCE, { keys: ['agent/m1/hour/100'] })).toEqual(new Map([['agent/m1/hour/100', 'x']]));
    expect(await store().loadSourceState(SOURCE, { keys: [], prefixes: [] })).toEqual(new Map());
    // Many prefixes travel as one array rather than a parameter each: the same answer.
    const many = [...Array.from({ length: 20 }, (_, index) => `agent/none-${index}/`), 'agent/m_/', 'agent/m%'];
    expect([...(await store().loadSourceState(SOURCE, { keys: ['agent/m1/meta'], prefixes: many })).keys()]).toEqual([
      'agent/m%/file/d',
      'agent/m1/meta',
      'agent/m_/file/c',
    ]);
  });

  it('refuses a state value JSON cannot hold, naming its key, and writes nothing', async () => {
    const before = await store().loadSourceState(SOURCE);
    await expect(
      store().writeSourceWindow({
        source: SOURCE,
        sourceSystem: SYSTEM,
        rows: [usageRow()],
        state: { set: new Map<string, unknown>([['fine', 1], ['callback', () => 1]]), deleted: [] },
      }),
    ).rejects.toThrow(/state value for "callback" must be JSON, not function/);
    expect(await store().loadSourceState(SOURCE)).toEqual(before);
    const [count] = await store().client.query<{ rows: number }>(`SELECT count(*)::int AS rows FROM "${store().schema}".token_usage`);
    expect(count).toEqual({ rows: 0 });
  });

  it('drops the state change when the rows fail: state and data never disagree (invariant 12)', async () => {
    const before = await store().loadSourceState(SOURCE);
    const bad = { ...usageRow(), input_tokens: -1 };
    await expect(
      store().writeSourceWindow({ source: SOURCE, sourceSystem: SYSTEM, rows: [bad], state: { set: new Map([['k', 1]]), deleted: [] } }),
    ).rejects.toThrow();
    expect(await store().loadSourceState(SOURCE)).toEqual(before);
  });
});
