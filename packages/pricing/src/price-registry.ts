import { matchesRule } from './match-rule';
import { type MatchStrategy, type ModelIdForm, modelIdForms, providerPrefix } from './model-id-forms';
import type { PriceEntry } from './price-entry';
import { overrideRates, overrideServiceTiers, type PriceOverrides, priceOverrideSchema } from './price-override';
import { type RegistryProvider, toRegistryModelPrices } from './registry-data';

/** Distinct (provider, model) pairs remembered per registry; beyond it, lookups are simply not cached. */
const MAX_CACHED_RESOLUTIONS = 10_000;

/** Provider names as utt sources write them → genai-prices provider ids. */
const PROVIDER_ALIASES: Readonly<Record<string, string>> = {
  gemini: 'google',
  'google-vertex': 'google',
  vertex: 'google',
  vertex_ai: 'google',
  vertexai: 'google',
  xai: 'x-ai',
  bedrock: 'aws',
  'aws-bedrock': 'aws',
  'amazon-bedrock': 'aws',
  'azure-openai': 'azure',
  azure_openai: 'azure',
  moonshot: 'moonshotai',
  mistralai: 'mistral',
  together_ai: 'together',
  togetherai: 'together',
  fireworks_ai: 'fireworks',
  'fireworks-ai': 'fireworks',
};

/** Providers that name a gateway rather than a vendor: the model's own rules pick the vendor. */
const GATEWAY_PROVIDERS = new Set(['', 'litellm', 'gateway', 'proxy', 'unknown']);

export type RegistryDataSet = {
  /** `file@2026-11-01`, `genai-prices@0.1.8`. */
  readonly label: string;
  readonly providers: readonly RegistryProvider[];
};

export type PriceRegistryOptions = {
  /** Config overrides keyed `provider/model` or `model` (highest precedence). */
  readonly overrides?: PriceOverrides;
  /** The local prices file (`pricing.file`), then the bundled registry. */
  readonly file?: RegistryDataSet;
  readonly bundled?: RegistryDataSet;
};

export type PriceResolution = {
  readonly entry: PriceEntry;
  readonly strategy: MatchStrategy;
  /** The model id (after normalisation) that matched. */
  readonly matchedId: string;
};

export type PriceRegistry = {
  /** The entry for a provider and model: config, then file, then bundled; undefined when none. */
  resolve(provider: string, model: string): PriceResolution | undefined;
  /** Every entry of every source, in precedence order. */
  entries(): readonly PriceEntry[];
  /** The data sets behind the registry, for `utt prices explain/check`. */
  readonly sources: ReadonlyArray<{ readonly source: PriceEntry['source']; readonly label: string; readonly entries: number }>;
};

export function createPriceRegistry(options: PriceRegistryOptions): PriceRegistry {
  const configEntries = buildConfigEntries(options.overrides ?? {});
  const configByKey = new Map(configEntries.map((entry) => [entry.key.toLowerCase(), entry]));
  const dataSets = [
    options.file && { source: 'file' as const, set: options.file, index: indexOf(options.file, 'file') },
    options.bundled && { source: 'registry' as const, set: options.bundled, index: indexOf(options.bundled, 'registry') },
  ].filter((value) => value !== undefined);

  const resolveConfig = (provider: string, model: string): PriceResolution | undefined => {
    const forms = modelIdForms(model);
    const lowered = provider.trim().toLowerCase();
    // A provider-qualified key wins over a bare one, however literal the bare match.
    for (const form of forms) {
      const entry = configByKey.get(`${lowered}/${form.id}`.toLowerCase());
      if (entry) return { entry, strategy: literalStrategy(form, entry.modelId), matchedId: form.id };
    }
    for (const form of forms) {
      const entry = configByKey.get(form.id.toLowerCase());
      if (entry) return { entry, strategy: literalStrategy(form, entry.modelId), matchedId: form.id };
    }
    return undefined;
  };

  // The registry never changes once built, and a file prices the same few
  // models a million times: each (provider, model) is matched once.
  const resolved = new Map<string, PriceResolution | undefined>();
  const resolveUncached = (provider: string, model: string): PriceResolution | undefined => {
    const fromConfig = resolveConfig(provider, model);
    if (fromConfig) return fromConfig;
    for (const { index } of dataSets) {
      const found = resolveInData(index, provider, model);
      if (found) return found;
    }
    return undefined;
  };

  return {
    resolve(provider, model) {
      const key = `${provider}\0${model}`;
      if (resolved.has(key)) return resolved.get(key);
      const resolution = resolveUncached(provider, model);
      if (resolved.size < MAX_CACHED_RESOLUTIONS) resolved.set(key, resolution);
      return resolution;
    },
    entries: () => [...configEntries, ...dataSets.flatMap(({ index }) => index.entries())],
    sources: [
      { source: 'config', label: 'config', entries: configEntries.length },
      ...dataSets.map(({ source, set, index }) => ({ source, label: set.label, entries: index.modelCount })),
    ],
  };
}

function buildConfigEntries(overrides: PriceOverrides): PriceEntry[] {
  return Object.entries(overrides).map(([key, raw]) => {
    const where = `pricing.overrides["${key}"]`;
    const parsed = priceOverrideSchema.safeParse(raw);
    if (!parsed.success) throw new Error(`${where}: ${parsed.error.issues.map((issue) => `${issue.path.join('.') || 'value'}: ${issue.message}`).join('; ')}`);
    const slash = key.indexOf('/');
    return {
      source: 'config',
      sourceLabel: 'config',
      provider: slash > 0 ? key.slice(0, slash) : '',
      modelId: slash > 0 ? key.slice(slash + 1) : key,
      key,
      versions: [{ from: null, rates: overrideRates(parsed.data, where) }],
      timeOfDay: [],
      serviceTiers: overrideServiceTiers(parsed.data, where),
    };
  });
}

type IndexedModel = {
  /** The model id, lower-cased. */
  readonly id: string;
  readonly match: RegistryProvider['models'][number]['match'];
  /** Its prices as an entry, converted on first use. */
  readonly entry: PriceEntry;
};

type ProviderIndex = {
  readonly provider: RegistryProvider;
  readonly models: readonly IndexedModel[];
};

type DataIndex = {
  readonly byId: ReadonlyMap<string, ProviderIndex>;
  readonly providers: readonly ProviderIndex[];
  /** Every model's entry (converting those not yet converted). */
  entries(): readonly PriceEntry[];
  readonly modelCount: number;
};

/** Each data set's index, built once however many registries share the set (the bundled one, a prices file read once). */
const indexes = new WeakMap<RegistryDataSet, Partial<Record<'file' | 'registry', DataIndex>>>();

function indexOf(set: RegistryDataSet, source: 'file' | 'registry'): DataIndex {
  let bySource = indexes.get(set);
  if (!bySource) indexes.set(set, (bySource = {}));
  bySource[source] ??= indexProviders(set, source);
  return bySource[source];
}

/**
 * The data set indexed by provider and model id. A model's rates are converted
 * (decimal strings, sorted versions) the first time it is looked at: the
 * bundled registry has some 1,700 models, a cycle prices a handful, and
 * converting them all took 15 ms of every command that loads the registry. A
 * prices file is converted whole here, so that a rate it gets wrong fails when
 * it is loaded, naming the file, provider and model, as before.
 */
function indexProviders(set: RegistryDataSet, source: 'file' | 'registry'): DataIndex {
  const providers: ProviderIndex[] = set.providers.map((provider) => ({
    provider,
    models: provider.models.map((model): IndexedModel => {
      let entry: PriceEntry | undefined;
      return {
        id: model.id.toLowerCase(),
        match: model.match,
        get entry() {
          entry ??= toPriceEntry(set, source, provider, model);
          return entry;
        },
      };
    }),
  }));
  const entries = () => providers.flatMap((index) => index.models.map((model) => model.entry));
  if (source === 'file') entries();
  return {
    byId: new Map(providers.map((index) => [index.provider.id.toLowerCase(), index])),
    providers,
    entries,
    modelCount: providers.reduce((count, index) => count + index.models.length, 0),
  };
}

function toPriceEntry(set: RegistryDataSet, source: 'file' | 'registry', provider: RegistryProvider, model: RegistryProvider['models'][number]): PriceEntry {
  const prices = toRegistryModelPrices(model.prices, `${set.label}: ${provider.id}/${model.id}`);
  return {
    source,
    sourceLabel: set.label,
    provider: provider.id,
    modelId: model.id,
    key: `${provider.id}/${model.id}`,
    match: model.match,
    versions: prices.versions,
    timeOfDay: prices.timeOfDay,
    pricingUrls: provider.pricing_urls,
  };
}

function findProvider(index: DataIndex, provider: string): ProviderIndex | undefined {
  const lowered = provider.trim().toLowerCase();
  const direct = index.byId.get(PROVIDER_ALIASES[lowered] ?? lowered);
  if (direct) return direct;
  if (lowered === '') return undefined;
  return index.providers.find((candidate) => candidate.provider.provider_match && matchesRule(candidate.provider.provider_match, lowered));
}

function findModel(provider: ProviderIndex, model: string): PriceResolution | undefined {
  // Per form, most literal first: an id, then the registry's own rules (which list dated snapshots).
  for (const form of modelIdForms(model)) {
    const byId = provider.models.find((candidate) => candidate.id === form.id.toLowerCase());
    if (byId) return { entry: byId.entry, strategy: literalStrategy(form, byId.entry.modelId), matchedId: form.id };
    const byRule = provider.models.find((candidate) => candidate.match && matchesRule(candidate.match, form.id));
    if (byRule) {
      const literal = form.strategy === 'exact' || form.strategy === 'case_folded';
      return { entry: byRule.entry, strategy: literal ? 'registry_rule' : form.strategy, matchedId: form.id };
    }
  }
  return undefined;
}

/** An exact form that matched only case-insensitively was case-folded. */
function literalStrategy(form: ModelIdForm, matchedModelId: string): MatchStrategy {
  return form.strategy === 'exact' && form.id !== matchedModelId ? 'case_folded' : form.strategy;
}

function resolveInData(index: DataIndex, provider: string, model: string): PriceResolution | undefined {
  const vendor = findProvider(index, provider);
  if (vendor) {
    const found = findModel(vendor, model);
    if (found) return found;
    for (const fallbackId of vendor.provider.fallback_model_providers ?? []) {
      const fallback = index.byId.get(fallbackId);
      const viaFallback = fallback && findModel(fallback, model);
      if (viaFallback) return { ...viaFallback, strategy: 'fallback_provider' };
    }
  }
  // A gateway row such as provider=litellm, model=anthropic/claude-sonnet-4-5.
  const prefix = providerPrefix(model);
  const prefixed = prefix === undefined ? undefined : findProvider(index, prefix);
  if (prefixed && prefixed !== vendor) {
    const found = findModel(prefixed, model);
    if (found) return { ...found, strategy: 'provider_from_model_prefix' };
  }
  if (GATEWAY_PROVIDERS.has(provider.trim().toLowerCase())) {
    const lower = model.trim().toLowerCase();
    for (const candidate of index.providers) {
      if (!candidate.provider.model_match || !matchesRule(candidate.provider.model_match, lower)) continue;
      const found = findModel(candidate, model);
      if (found) return { ...found, strategy: 'provider_inferred' };
    }
  }
  return undefined;
}
