import type { StandardSchemaV1 } from '@standard-schema/spec';
import type { UsageAdapterV1 } from './v1/usage-adapter-v1';

/**
 * Identity function that infers the config type from `configSchema`, so
 * `context.config` is typed inside `collect` and `check`.
 */
export function defineAdapter<TSchema extends StandardSchemaV1>(
  adapter: Omit<UsageAdapterV1<StandardSchemaV1.InferOutput<TSchema>>, 'configSchema'> & { readonly configSchema: TSchema },
): UsageAdapterV1<StandardSchemaV1.InferOutput<TSchema>> {
  return adapter as UsageAdapterV1<StandardSchemaV1.InferOutput<TSchema>>;
}
