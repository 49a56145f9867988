// Child process of run.ts: the work per row after the scan, on its own. It takes
// the records and the state a cold `utt backfill` just wrote (schema
// bench_agent_logs), and in this fresh process does what the worker does with
// them after collect(): validate each record (core's toUsageRows), price it (the
// worker's priceRows) and write rows and state in one transaction
// (writeSourceWindow) into an empty schema. Without a scan before it, none of
// the scan's garbage is collected during these phases.
//   tsx agent-logs/per-row-work.ts postgres://…/db
import { toUsageRows, type UsageRecordInput } from '@utt/core';
import { openStore } from '@utt/postgres';
import { loadPriceRegistry } from '@utt/pricing';
import { priceRows } from '../../apps/worker/src/cycle/price-rows';

const url = process.argv[2] as string;
const source = await openStore({ url, schema: 'bench_agent_logs', migrate: false });
const stored = await source.client.query<Record<string, unknown>>(
  `SELECT source_instance, granularity, bucket_start, provider, model, labels, input_tokens, output_tokens, cached_read_tokens,
          cached_write_tokens, cached_write_1h_tokens, reasoning_tokens, requests, measurement_basis
   FROM "bench_agent_logs".token_usage WHERE source_system = 'claude_code' ORDER BY bucket_start, model, labels::text`,
);
// The records as the adapter returns them: unpriced, every counter it knows,
// and the records of one model and labels (a session's hours) sharing one
// labels object, as the ledger's cells do.
const labelsOf = new Map<string, unknown>();
const records = stored.map((row) => {
  const key = `${row.model as string}\n${JSON.stringify(row.labels)}`;
  if (!labelsOf.has(key)) labelsOf.set(key, row.labels);
  return { ...row, labels: labelsOf.get(key) } as UsageRecordInput;
});
const state = await source.loadSourceState('claude');
await source.close();

const target = await openStore({ url, schema: 'bench_agent_logs_rows', migrate: false });
await target.client.exec('DROP SCHEMA IF EXISTS bench_agent_logs_rows CASCADE');
await target.migrate();
const registry = await loadPriceRegistry({});
(globalThis as { gc?: () => void }).gc?.();
await new Promise((resolve) => setTimeout(resolve, 250));

const started = performance.now();
const rows = toUsageRows(records, { sourceSystem: 'claude_code', defaultInstance: 'bench', where: (index) => `claude record ${index}` });
const validated = performance.now();
const priced = priceRows(rows, registry);
const pricedAt = performance.now();
const cpu = process.cpuUsage();
await target.writeSourceWindow({ source: 'claude', sourceSystem: 'claude_code', rows: priced.rows, state: { set: state, deleted: [] }, status: { status: 'ok' } });
const writeCpu = process.cpuUsage(cpu);
const written = performance.now();
await target.client.exec('DROP SCHEMA IF EXISTS bench_agent_logs_rows CASCADE');
await target.close();
process.stdout.write(
  `${JSON.stringify({
    records: records.length,
    stateKeys: state.size,
    validateMs: validated - started,
    priceMs: pricedAt - validated,
    writeMs: written - pricedAt,
    writeCpuMs: (writeCpu.user + writeCpu.system) / 1000,
  })}\n`,
);
