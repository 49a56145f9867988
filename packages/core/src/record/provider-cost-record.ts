import { z } from 'zod';
import { isAlignedToBucket } from '../time/bucket';
import { bucketRangeProblem, dimensionTextProblem } from './dimension-text';

const textSchema = z.string().superRefine((text, context) => {
  const problem = dimensionTextProblem(text);
  if (problem) context.addIssue({ code: 'custom', message: problem });
});

const signedDecimalPattern = /^-?\d+(\.\d+)?$/;

/**
 * What a provider says it billed for one day (OpenAI Costs API, Anthropic
 * cost report, Copilot billing, LiteLLM's spend counter): stored in
 * provider_cost beside the usage computed from tokens, so reports can show
 * billed vs computed. Amounts may be negative (credits, refunds).
 */
export const providerCostRecordSchema = z.strictObject({
  source_instance: textSchema.default(''),
  bucket_start: z
    .union([z.date(), z.iso.datetime({ offset: true }).transform((text) => new Date(text))])
    .refine((date) => !Number.isNaN(date.getTime()) && isAlignedToBucket(date, 'day'), 'must be the start of a UTC day')
    .refine((date) => bucketRangeProblem(date) === undefined, 'is outside the supported range (years 2000 to 2099)'),
  provider: textSchema.min(1, 'required'),
  account: textSchema.default(''),
  /** '' where the line item cannot be tied to a model. */
  model: textSchema.default(''),
  line_item: textSchema.min(1, 'required'),
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
