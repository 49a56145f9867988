/**
 * A dated snapshot's suffix: OpenAI's -2024-07-18, Anthropic's -20250929,
 * Vertex's @20250929, and Bedrock's -v1:0 after them. The same rule is the
 * SQL of @utt/postgres's readSpend (MODEL_SNAPSHOT_SUFFIX there): a budget
 * must count the same calls in process and over the ledger.
 */
const SNAPSHOT_SUFFIX = /[-@]20\d{2}-?\d{2}-?\d{2}(?:-v\d+(?::\d+)?)?$/;

/** The model without its snapshot date: `gpt-4o-mini-2024-07-18` → `gpt-4o-mini`. */
export function modelWithoutSnapshot(model: string): string {
  return model.replace(SNAPSHOT_SUFFIX, '');
}

/**
 * Whether a budget's `scope.model` covers a call's model. A request names an
 * alias (`gpt-4o-mini`, `claude-sonnet-4-5`) and the response, whose model the
 * call is recorded under, the snapshot that served it
 * (`gpt-4o-mini-2024-07-18`, `claude-sonnet-4-5-20250929`): an exact match
 * would admit the call by the alias and then never count what it cost. So a
 * scope covers its own snapshots, and a snapshot scope the alias a request
 * names (it may be served by that snapshot); two different snapshots, or
 * `gpt-4o` and `gpt-4o-mini`, never match.
 */
export function modelInScope(scopeModel: string, model: string): boolean {
  return model === scopeModel || modelWithoutSnapshot(model) === scopeModel || modelWithoutSnapshot(scopeModel) === model;
}
