import { quotaPace } from './quota-pace';
import { effectiveUsedRatio, type QuotaReading } from './quota-reading';

export type QuotaRotationGroup = 'available' | 'unknown' | 'maxed' | 'rejected' | 'auth_required' | 'invalid_key';

/** One account in the rotation order. */
export type QuotaRotationEntry = {
  readonly rank: number;
  readonly provider: string;
  readonly account: string;
  readonly group: QuotaRotationGroup;
  /** The smallest remaining share across the windows that bind the account; null when unknown. */
  readonly headroomRatio: number | null;
  /** The window that sets the headroom (or the reason for the group). */
  readonly bindingWindow: string | null;
  /** When the binding window resets. */
  readonly resetsAt: Date | null;
  readonly why: string;
};

const GROUP_ORDER: readonly QuotaRotationGroup[] = ['available', 'unknown', 'maxed', 'rejected', 'auth_required', 'invalid_key'];

/**
 * Ranks accounts by headroom: for each, the smallest remaining share of every
 * window that binds it (a 5-hour window with room does not help when the
 * weekly one is spent). Accounts with room come first, most headroom first;
 * then accounts whose quota is unknown (unknown is neither full nor empty);
 * then maxed ones (soonest reset first); then rejected, auth-required and
 * invalid-key accounts, each with why. Pass the latest reading of each window.
 */
export function rotateQuotaAccounts(latest: readonly QuotaReading[], now: Date): QuotaRotationEntry[] {
  const accounts = new Map<string, QuotaReading[]>();
  for (const reading of latest) {
    const key = JSON.stringify([reading.provider, reading.account]);
    const list = accounts.get(key) ?? [];
    list.push(reading);
    accounts.set(key, list);
  }
  const entries: Omit<QuotaRotationEntry, 'rank'>[] = [];
  for (const readings of accounts.values()) {
    const first = readings[0] as QuotaReading;
    const base = { provider: first.provider, account: first.account };
    const byStatus = (status: QuotaReading['status']) => readings.find((reading) => reading.status === status);
    const invalid = byStatus('invalid_key');
    const auth = byStatus('auth_required');
    const rejected = readings.find((reading) => reading.status === 'rejected' && !(reading.resetsAt && reading.resetsAt <= now));
    if (invalid) {
      entries.push({ ...base, group: 'invalid_key', headroomRatio: null, bindingWindow: null, resetsAt: null, why: `invalid key${invalid.detail ? `: ${invalid.detail}` : ''}` });
      continue;
    }
    if (auth) {
      entries.push({ ...base, group: 'auth_required', headroomRatio: null, bindingWindow: null, resetsAt: null, why: `sign-in required${auth.detail ? `: ${auth.detail}` : ''}` });
      continue;
    }
    if (rejected) {
      entries.push({ ...base, group: 'rejected', headroomRatio: 0, bindingWindow: rejected.window, resetsAt: rejected.resetsAt, why: `${rejected.window} rejected` });
      continue;
    }
    let binding: { reading: QuotaReading; headroom: number } | null = null;
    for (const reading of readings) {
      const used = effectiveUsedRatio(reading, now);
      if (used === null) continue;
      const headroom = 1 - used;
      if (!binding || headroom < binding.headroom) binding = { reading, headroom };
    }
    if (!binding) {
      entries.push({ ...base, group: 'unknown', headroomRatio: null, bindingWindow: null, resetsAt: null, why: 'no window reports its use' });
      continue;
    }
    const { reading, headroom } = binding;
    const resetsAt = reading.resetsAt && reading.resetsAt > now ? reading.resetsAt : null;
    if (headroom <= 0) {
      entries.push({ ...base, group: 'maxed', headroomRatio: headroom, bindingWindow: reading.window, resetsAt, why: `${reading.window} at ${percent(1 - headroom)}` });
      continue;
    }
    const pace = quotaPace(reading, now);
    const why = `${percent(headroom)} left of ${reading.window}${pace?.runsOutBeforeReset ? ' (runs out before reset at this pace)' : ''}`;
    entries.push({ ...base, group: 'available', headroomRatio: headroom, bindingWindow: reading.window, resetsAt, why });
  }
  entries.sort((a, b) => {
    const group = GROUP_ORDER.indexOf(a.group) - GROUP_ORDER.indexOf(b.group);
    if (group !== 0) return group;
    if (a.group === 'available' && a.headroomRatio !== b.headroomRatio) return (b.headroomRatio as number) - (a.headroomRatio as number);
    if ((a.group === 'maxed' || a.group === 'rejected') && a.resetsAt && b.resetsAt) return a.resetsAt.getTime() - b.resetsAt.getTime();
    return a.provider.localeCompare(b.provider) || a.account.localeCompare(b.account);
  });
  return entries.map((entry, index) => ({ rank: index + 1, ...entry }));
}

export function percent(ratio: number): string {
  return `${Math.round(ratio * 1000) / 10} %`;
}
