import { describe, expect, it } from 'vitest';
import { CONFORMANCE_CHECKS } from './conformance-checks';
import type { UsageAdapterConformanceOptions } from './usage-adapter-conformance-options';

/**
 * Registers a vitest `describe` block with one `it` per conformance check.
 * A failing check lists what is wrong (canary secrets redacted); checks that
 * do not apply (no `http`, no `canarySecrets`) show as skipped.
 */
export function describeUsageAdapterConformance(options: UsageAdapterConformanceOptions): void {
  const id = typeof options.adapter?.id === 'string' ? options.adapter.id : '(adapter without id)';
  describe(`utt adapter conformance: ${id}`, () => {
    for (const check of CONFORMANCE_CHECKS) {
      it.skipIf(!check.appliesTo(options))(check.title, { timeout: check.timeoutMs }, async () => {
        expect(await check.run(options)).toEqual([]);
      });
    }
  });
}
