import type { MatchRule } from './match-rule';
import type { PriceRates, PriceSource, PriceVersion } from './price-rates';
import type { TimeOfDayWindow } from './registry-data';

/** One model's prices from one source. */
export type PriceEntry = {
  readonly source: PriceSource;
  /** The source with its version, e.g. `config`, `file@2026-11-01#3f2a9c1b` (fetch date and content hash), `genai-prices@0.1.8`. */
  readonly sourceLabel: string;
  /** The provider id in the source ('' for a bare config key). */
  readonly provider: string;
  readonly modelId: string;
  /** `provider/model`, or the bare model of a config key without a provider. */
  readonly key: string;
  readonly match?: MatchRule;
  /** Dated versions, oldest first. */
  readonly versions: readonly PriceVersion[];
  readonly timeOfDay: ReadonlyArray<{ readonly window: TimeOfDayWindow; readonly rates: PriceRates }>;
  readonly serviceTiers?: Readonly<Record<string, string>>;
  readonly pricingUrls?: readonly string[];
};

/** The version in force at `at`: the latest whose start date is not after it (the oldest if all are). */
export function versionAt(entry: PriceEntry, at: Date): PriceVersion {
  let chosen = entry.versions[0] as PriceVersion;
  const time = at.getTime();
  for (const version of entry.versions) {
    if (version.from === null || startOf(version) <= time) chosen = version;
  }
  return chosen;
}

const starts = new WeakMap<PriceVersion, number>();

/** A version's start as a time, parsed once (a cycle asks for every row). */
function startOf(version: PriceVersion): number {
  let start = starts.get(version);
  if (start === undefined) {
    start = new Date(`${version.from}T00:00:00Z`).getTime();
    starts.set(version, start);
  }
  return start;
}
