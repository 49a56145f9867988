import { latestQuotaReadings, quotaUnderspend, type QuotaSeverity } from '@utt/core';
import { HEARTBEAT_SOURCE, quotaStatusSource, type UsageStore } from '@utt/postgres';
import { parseBudgets, readBudgetStatus } from '@utt/tracker';
import type { AlertRuleConfig } from '../config/quota-config-schema';
import type { WorkerConfig } from '../config/worker-config-schema';
import { formatCountdown, formatPercent, quotaStatusRows } from '../quota/quota-view';

/** How loud a notification is: ntfy priority, Slack emoji. */
export type AlertUrgency = 'critical' | 'warning' | 'info';

/**
 * What a rule concludes about one subject now. `level` is `ok` or the rule's
 * own word (`warning`, `critical`, `underspend`, `stale`, `exceeded`…); the
 * alerting module notifies when it differs from the stored level. `message`
 * describes the new level (a recovery message when it is `ok`).
 */
export type AlertObservationResult = {
  readonly subject: string;
  readonly level: string;
  readonly urgency: AlertUrgency;
  readonly message: string;
};

export type AlertRuleContext = {
  readonly store: UsageStore;
  readonly config: WorkerConfig;
  readonly now: Date;
};

/**
 * An alert rule: anything that can say, per subject, which level it is at.
 * Subjects it has no information about (an unreadable quota, a stale reading)
 * are left out, so a lack of data is never taken for a recovery. A new rule
 * type plugs in by adding a factory to ALERT_RULE_FACTORIES.
 */
export type AlertRule = {
  readonly name: string;
  evaluate(context: AlertRuleContext): Promise<readonly AlertObservationResult[]>;
};

export type AlertRuleFactory = (config: AlertRuleConfig) => AlertRule;

const RANK: Record<QuotaSeverity, number> = { OK: 0, UNKNOWN: 0, WARNING: 1, CRITICAL: 2 };

/** quota-severity: a window's severity reached minSeverity; recovery when it drops below. Unknown and stale readings say nothing. */
export const quotaSeverityRule: AlertRuleFactory = (rule) => ({
  name: rule.name,
  async evaluate({ store, config, now }) {
    const history = await store.listQuotaReadings({ provider: rule.provider, account: rule.account, since: new Date(now.getTime() - 14 * 86_400_000), until: now });
    const rows = quotaStatusRows(latestQuotaReadings(history), history, { now, thresholds: config.quota.thresholds, staleAfterMs: config.quota.staleAfter });
    const results: AlertObservationResult[] = [];
    for (const row of rows) {
      if (row.severity === 'UNKNOWN' || row.stale) continue;
      const { reading } = row;
      const subject = `${reading.provider}/${reading.account}/${reading.window}`;
      const alerting = RANK[row.severity] >= RANK[rule.minSeverity];
      const reset = reading.resetsAt ? `, resets in ${formatCountdown(now, reading.resetsAt)}` : '';
      const pace = row.pace?.runsOutBeforeReset && row.pace.exhaustsAt && row.pace.exhaustsAt > now ? `; runs out in ${formatCountdown(now, row.pace.exhaustsAt)} at this pace` : '';
      results.push(
        alerting
          ? {
              subject,
              level: row.severity.toLowerCase(),
              urgency: row.severity === 'CRITICAL' ? 'critical' : 'warning',
              message: `${reading.provider} ${reading.account} ${reading.window} quota ${row.severity}: ${formatPercent(row.usedRatio)} used (${reading.status})${reset}${pace}`,
            }
          : { subject, level: 'ok', urgency: 'info', message: `${reading.provider} ${reading.account} ${reading.window} quota back to ${row.severity}: ${formatPercent(row.usedRatio)} used` },
      );
    }
    return results;
  },
});

/** underspend: a short window about to reset with quota the weekly window could absorb. */
export const underspendRule: AlertRuleFactory = (rule) => ({
  name: rule.name,
  async evaluate({ store, config, now }) {
    const latest = (await store.latestQuotaReadings({ provider: rule.provider, account: rule.account, until: now })).filter(
      (reading) => now.getTime() - reading.confirmedAt.getTime() <= config.quota.staleAfter,
    );
    const options = config.quota.underspend;
    const found = quotaUnderspend(latest, now, { minUnusedRatio: options.minUnused, withinMs: options.within, minWeeklyRoomRatio: options.minWeeklyRoom });
    const results: AlertObservationResult[] = [];
    for (const reading of latest.filter((entry) => entry.window === '5h')) {
      const subject = `${reading.provider}/${reading.account}/${reading.window}`;
      const hit = found.find((entry) => entry.provider === reading.provider && entry.account === reading.account);
      results.push(
        hit
          ? {
              subject,
              level: 'underspend',
              urgency: 'info',
              message: `${reading.provider} ${reading.account}: ${formatPercent(hit.unusedRatio)} of the ${reading.window} window unused, resets in ${formatCountdown(now, hit.resetsAt)}${hit.weeklyRemainingRatio === null ? '' : ` (weekly ${formatPercent(hit.weeklyRemainingRatio)} left)`}`,
            }
          : { subject, level: 'ok', urgency: 'info', message: `${reading.provider} ${reading.account}: ${reading.window} underspend over` },
      );
    }
    return results;
  },
});

/** source-stale: a source (its usage or its quota collection) or the worker itself without a successful run for too long. */
export const sourceStaleRule: AlertRuleFactory = (rule) => ({
  name: rule.name,
  async evaluate({ store, config, now }) {
    const statuses = new Map((await store.listStatus()).map((status) => [status.source, status]));
    const results: AlertObservationResult[] = [];
    const judge = (name: string, limit: number) => {
      const status = statuses.get(name);
      if (!status) return;
      const last = status.lastSuccessAt;
      const stale = last === null || now.getTime() - last.getTime() > limit;
      results.push(
        stale
          ? { subject: name, level: 'stale', urgency: 'warning', message: `${name} is stale: last success ${last ? `${formatCountdown(last, now)} ago` : 'never'}${status.lastError ? ` (${status.lastError})` : ''}` }
          : { subject: name, level: 'ok', urgency: 'info', message: `${name} is fresh again` },
      );
    };
    judge(HEARTBEAT_SOURCE, rule.staleAfter ?? config.worker.staleAfter);
    for (const source of config.sources) {
      if (!source.enabled || source.paused) continue;
      judge(source.name, rule.staleAfter ?? source.staleAfter ?? config.worker.staleAfter);
      judge(quotaStatusSource(source.name), rule.staleAfter ?? config.quota.staleAfter);
    }
    return results;
  },
});

/**
 * budget: a day or month budget's spend in its current period (as `utt budget`
 * computes it) crossed its soft threshold (warning) or its limit (critical);
 * recovery when it is back under, e.g. when a new period starts. One subject
 * per budget and `*` tag value.
 */
export const budgetRule: AlertRuleFactory = (rule) => ({
  name: rule.name,
  async evaluate({ store, config, now }) {
    const configured = parseBudgets(config.budgets);
    const unknown = rule.budgets?.filter((name) => !configured.some((budget) => budget.name === name)) ?? [];
    if (unknown.length > 0) throw new Error(`alerts.rules "${rule.name}".budgets: no budget named ${unknown.map((name) => JSON.stringify(name)).join(', ')} under budgets:`);
    const budgets = configured.filter((budget) => rule.budgets === undefined || rule.budgets.includes(budget.name));
    const results: AlertObservationResult[] = [];
    for (const line of await readBudgetStatus(store, budgets, { now, timeZone: config.reportingTimeZone })) {
      const scope = Object.entries(line.scopeValues).map(([key, value]) => `${key}=${value}`).join(',');
      const subject = scope ? `${line.budget}/${scope}` : line.budget;
      const spent = `$${line.spentUsd.toFixed(2)} of $${line.limitUsd.toFixed(2)} (${line.percent.toFixed(1)}%) this ${line.period}`;
      results.push(
        line.crossed === 'limit'
          ? { subject, level: 'critical', urgency: 'critical', message: `budget ${subject} over its limit: ${spent}` }
          : line.crossed === 'soft'
            ? { subject, level: 'warning', urgency: 'warning', message: `budget ${subject} past its soft threshold: ${spent}` }
            : { subject, level: 'ok', urgency: 'info', message: `budget ${subject} back under: ${spent}` },
      );
    }
    return results;
  },
});

/**
 * Rule types by the `type` of a configured rule. A feature that brings its
 * own rule (budgets) adds its factory here and its type to the config enum.
 */
export const ALERT_RULE_FACTORIES: Record<string, AlertRuleFactory> = {
  'quota-severity': quotaSeverityRule,
  underspend: underspendRule,
  'source-stale': sourceStaleRule,
  budget: budgetRule,
};
