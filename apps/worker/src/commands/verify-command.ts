import { loadAdapter } from '../config/load-adapter';
import { EXIT_OK, EXIT_PARTIAL } from '../exit-codes';
import { describeUnpriced, unpricedModels } from '../pricing/unpriced-models';
import { openConfiguredStore, type Runtime } from '../runtime';

/** `utt verify`: the seed's smoke checks that data flows and the invariants hold. */
export async function verifyCommand(runtime: Runtime): Promise<number> {
  const sources = [];
  for (const source of runtime.loaded.config.sources) {
    const adapter = await loadAdapter(source.adapter, { directory: runtime.loaded.directory, cwd: runtime.cwd });
    sources.push({
      name: source.name,
      sourceSystem: adapter.sourceSystem,
      cacheTokens: adapter.capabilities.cacheTokens,
      enabled: source.enabled,
      paused: source.paused,
    });
  }
  const store = await openConfiguredStore(runtime);
  try {
    const checks = await store.verify({ sources });
    for (const check of checks) {
      process.stdout.write(`${check.ok ? 'ok  ' : 'FAIL'}  ${check.name}${check.detail ? `: ${check.detail}` : ''}\n`);
    }
    // Listed, not failed: an unpriced local model is a fact to know, not a broken invariant.
    const unpriced = await unpricedModels(store);
    process.stdout.write(
      unpriced.length === 0
        ? 'info  unpriced-models: every model with tokens has a price\n'
        : `info  unpriced-models: ${unpriced.length} without a price (cost NULL, not $0): ${describeUnpriced(unpriced)}\n`,
    );
    const failed = checks.filter((check) => !check.ok).length;
    process.stdout.write(`\n${checks.length - failed} passed, ${failed} failed\n`);
    return failed > 0 ? EXIT_PARTIAL : EXIT_OK;
  } finally {
    await store.close();
  }
}
