import { parseDuration, z } from '@utt/core';

const duration = z.union([z.string(), z.number()]).transform((value, context) => {
  try {
    return parseDuration(value);
  } catch (error) {
    context.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});

const ratio = z.number().min(0, 'a ratio 0–1').max(1.5, 'a ratio 0–1 (0.8 = 80 %)');

/** `quota:` — how `utt quota` judges readings. */
export const quotaConfigSchema = z
  .strictObject({
    /** Used ratios at which a window is WARNING and CRITICAL. */
    thresholds: z
      .strictObject({ warning: ratio.default(0.8), critical: ratio.default(0.95) })
      .prefault({})
      .refine((value) => value.warning <= value.critical, { message: 'warning must not be above critical' }),
    /** A reading not confirmed for this long is marked stale. */
    staleAfter: duration.default(20 * 60_000),
    underspend: z
      .strictObject({
        /** Share of the 5-hour window unused… */
        minUnused: ratio.default(0.4),
        /** …with less than this to its reset. */
        within: duration.default(2 * 3_600_000),
        /** The weekly window must keep at least this share to absorb the spend. */
        minWeeklyRoom: ratio.default(0.1),
      })
      .prefault({}),
    /** `utt statusline`: which source and account its readings belong to (default: the first claude-code source; the signed-in email). */
    statusline: z.strictObject({ source: z.string().min(1).optional(), account: z.string().min(1).optional() }).prefault({}),
  })
  .prefault({});

const channelSchema = z.discriminatedUnion('type', [
  /** A Slack incoming webhook, or anything that takes its `{"text": …}` JSON (Mattermost, Discord's /slack path). */
  z.strictObject({ type: z.literal('slack'), url: z.url() }),
  /** ntfy: POST the message to `<url>/<topic>` (the topic may be part of url), with title, priority and tags headers. */
  z.strictObject({ type: z.literal('ntfy'), url: z.url(), topic: z.string().min(1).optional(), token: z.string().min(1).optional() }),
  z.strictObject({ type: z.literal('stdout') }),
]);

const ruleSchema = z.strictObject({
  /** Unique; keys the alert state. */
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'use letters, digits, ".", "_" and "-"'),
  /** A new rule type adds its name here and its factory to ALERT_RULE_FACTORIES (alerts/alert-rule.ts). */
  type: z.enum(['quota-severity', 'underspend', 'source-stale', 'budget']),
  /** Channel names; default every channel. */
  channels: z.array(z.string().min(1)).optional(),
  /** quota-severity: the least severity that alerts (default WARNING). */
  minSeverity: z.enum(['WARNING', 'CRITICAL']).default('WARNING'),
  provider: z.string().min(1).optional(),
  account: z.string().min(1).optional(),
  /** source-stale: sources without a successful run for this long (default each source's staleAfter). */
  staleAfter: duration.optional(),
  /** budget: the budget names to watch (default every day and month budget of `budgets:`). */
  budgets: z.array(z.string().min(1)).optional(),
});

/** `alerts:` — edge-triggered rules and where they notify. */
export const alertsConfigSchema = z
  .strictObject({
    channels: z.record(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/), channelSchema).default({}),
    rules: z.array(ruleSchema).default([]),
  })
  .prefault({})
  .superRefine((alerts, context) => {
    const seen = new Set<string>();
    alerts.rules.forEach((rule, index) => {
      if (seen.has(rule.name)) context.addIssue({ code: 'custom', path: ['rules', index, 'name'], message: `duplicate rule name "${rule.name}"` });
      seen.add(rule.name);
      rule.channels?.forEach((channel, channelIndex) => {
        if (!(channel in alerts.channels)) {
          context.addIssue({ code: 'custom', path: ['rules', index, 'channels', channelIndex], message: `no channel named "${channel}" under alerts.channels` });
        }
      });
    });
  });

export type QuotaConfig = z.output<typeof quotaConfigSchema>;
export type AlertsConfig = z.output<typeof alertsConfigSchema>;
export type AlertChannelConfig = z.output<typeof channelSchema>;
export type AlertRuleConfig = z.output<typeof ruleSchema>;
