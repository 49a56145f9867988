import { redactSecrets } from '@utt/core';
import type { UsageStore } from '@utt/postgres';
import type { WorkerConfig } from '../config/worker-config-schema';
import { createAlertChannel } from './alert-channels';
import { ALERT_RULE_FACTORIES, type AlertObservationResult } from './alert-rule';

export type AlertRunEntry = AlertObservationResult & {
  readonly rule: string;
  readonly previousLevel: string | null;
  readonly notified: boolean;
  readonly error?: string;
};

/**
 * Evaluates every configured rule and, for each subject whose level changed
 * since the stored one, notifies the rule's channels inside the transaction
 * that stores the new level (edge-triggered across processes). A failed
 * delivery keeps the old level, so the next run tries again.
 */
export async function runAlerts(options: {
  store: UsageStore;
  config: WorkerConfig;
  now: Date;
  fetch: typeof globalThis.fetch;
  write: (text: string) => void;
  secrets: ReadonlySet<string>;
  dryRun?: boolean;
}): Promise<AlertRunEntry[]> {
  const { config, store, now } = options;
  const channels = Object.entries(config.alerts.channels).map(([name, channel]) => createAlertChannel(name, channel, options));
  const entries: AlertRunEntry[] = [];
  for (const ruleConfig of config.alerts.rules) {
    const factory = ALERT_RULE_FACTORIES[ruleConfig.type];
    if (!factory) throw new Error(`alerts.rules "${ruleConfig.name}": no rule type "${ruleConfig.type}" is installed`);
    const rule = factory(ruleConfig);
    const targets = ruleConfig.channels ? channels.filter((channel) => ruleConfig.channels?.includes(channel.name)) : channels;
    for (const observation of await rule.evaluate({ store, config, now })) {
      if (options.dryRun) {
        entries.push({ ...observation, rule: rule.name, previousLevel: null, notified: false });
        continue;
      }
      try {
        const result = await store.transitionAlert({ rule: rule.name, subject: observation.subject, level: observation.level, now }, async (previous) => {
          const notification = { rule: rule.name, subject: observation.subject, level: observation.level, previousLevel: previous.level, urgency: observation.urgency, message: observation.message };
          for (const channel of targets) await channel.send(notification);
          return observation.message;
        });
        entries.push({ ...observation, rule: rule.name, previousLevel: result.previous.level, notified: result.notified });
      } catch (error) {
        entries.push({ ...observation, rule: rule.name, previousLevel: null, notified: false, error: redactSecrets(error instanceof Error ? error.message : String(error), options.secrets) });
      }
    }
  }
  return entries;
}
