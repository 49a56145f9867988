/** How a stored model id was turned into the id a price matched. */
export type MatchStrategy =
  | 'exact'
  | 'case_folded'
  | 'provider_prefix_stripped'
  | 'date_suffix_stripped'
  | 'registry_rule'
  | 'fallback_provider'
  | 'provider_from_model_prefix'
  | 'provider_inferred';

export type ModelIdForm = { readonly id: string; readonly strategy: 'exact' | 'case_folded' | 'provider_prefix_stripped' | 'date_suffix_stripped' };

// -20250929, -2025-09-29, @20250929, and Bedrock's -v1:0 after them.
const DATE_SUFFIX = /(?:[-@](?:20\d{2}-?\d{2}-?\d{2}))(?:-v\d+(?::\d+)?)?$|-v\d+:\d+$|-latest$/;
// anthropic/…, models/… (Gemini API), anthropic.… and us.anthropic.… (Bedrock).
const PREFIX = /^(?:[a-z0-9_-]+\/)+|^(?:(?:us|eu|apac|global|regional)\.)?[a-z0-9-]+\.(?=[a-z])/;

/**
 * The ids to try for a stored model, most literal first: as stored, lower
 * case, without a provider prefix, then without a date or version suffix.
 * Each carries the strategy reported when a price matches it.
 */
export function modelIdForms(model: string): ModelIdForm[] {
  const forms: ModelIdForm[] = [];
  const add = (id: string, strategy: ModelIdForm['strategy']) => {
    if (id !== '' && !forms.some((form) => form.id === id)) forms.push({ id, strategy });
  };
  const trimmed = model.trim();
  add(trimmed, 'exact');
  const lower = trimmed.toLowerCase();
  add(lower, 'case_folded');
  const unprefixed = lower.replace(PREFIX, '');
  add(unprefixed, 'provider_prefix_stripped');
  add(unprefixed.replace(DATE_SUFFIX, ''), 'date_suffix_stripped');
  return forms;
}

/** `anthropic/claude-…` names its provider; `claude-…` does not. */
export function providerPrefix(model: string): string | undefined {
  const slash = model.indexOf('/');
  return slash > 0 ? model.slice(0, slash).trim().toLowerCase() : undefined;
}
