import { z } from 'zod';
import { isAlignedToBucket } from '../time/bucket';

const signedDecimalPattern = /^-?\d+(\.\d+)?$/;

/**
 * What a provider says it billed for one day (OpenAI Costs API, Anthropic
 * cost report, Copilot billing, LiteLLM's spend counter): stored in
 * provider_cost beside the usage computed from tokens, so reports can show
 * billed vs computed. Amounts may be negative (credits, refunds).
 */
export const providerCostRecordSchema = z.strictObject({
  source_instance: z.string().default(''),
  bucket_start: z
    .union([z.date(), z.iso.datetime({ offset: true }).transform((text) => new Date(text))])
    .refine((date) => !Number.isNaN(date.getTime()) && isAlignedToBucket(date, 'day'), 'must be the start of a UTC day'),
  provider: z.string().min(1, 'required'),
  account: z.string().default(''),
  /** '' where the line item cannot be tied to a model. */
  model: z.string().default(''),
  line_item: z.string().min(1, 'required'),
  amount_usd: z
    .union([z.number().finite(), z.string().regex(signedDecimalPattern, 'expected a decimal number')])
    .transform((value) => (typeof value === 'number' ? numberToDecimalString(value) : value)),
  currency: z.string().regex(/^[A-Z]{3}$/, 'expected an ISO 4217 code').default('USD'),
});

export type ProviderCostRecordInput = z.input<typeof providerCostRecordSchema>;
export type ProviderCostRecord = z.output<typeof providerCostRecordSchema>;
export type ProviderCostRow = ProviderCostRecord & { readonly source_system: string };

function numberToDecimalString(value: number): string {
  const fixed = value.toFixed(12);
  return fixed.includes('.') ? fixed.replace(/0+$/, '').replace(/\.$/, '') : fixed;
}

/** A stable string for the conflict key of a provider_cost row. */
export function providerCostRowKey(row: ProviderCostRow): string {
  return JSON.stringify([row.source_system, row.source_instance, row.bucket_start.getTime(), row.provider, row.account, row.model, row.line_item]);
}
