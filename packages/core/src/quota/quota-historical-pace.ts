import type { QuotaReading } from './quota-reading';

/** The current window judged against how past windows of the same account went. */
export type QuotaHistoricalPace = {
  /** Complete past windows the estimate rests on. */
  readonly weeks: number;
  /** The share a typical past window had used by this point (recency-weighted, blended with linear while few weeks exist). */
  readonly expectedRatio: number;
  readonly deltaRatio: number;
  /** Chance of running out before the reset, smoothed; null below 5 complete windows. */
  readonly runOutProbability: number | null;
  /** Weighted median of when the past windows that ran out would have, shifted to today's level; null when most last. */
  readonly exhaustsAt: Date | null;
};

const GRID = 169;
const RESET_BUCKET_MS = 5 * 60_000;
const DAY_MS = 86_400_000;

/**
 * CodexBar's historical pace: each complete past window (≥ 6 samples, one in
 * its first and one in its last 24 h) becomes a monotone curve of used share
 * against elapsed share; curves are weighted exp(−age/3 weeks) and blended with
 * the linear pace by their effective number. Needs ≥ 3 complete windows (null
 * otherwise), ≥ 5 for a run-out probability.
 */
export function quotaHistoricalPace(current: QuotaReading, history: readonly QuotaReading[], now: Date): QuotaHistoricalPace | null {
  if (current.usedRatio === null || current.resetsAt === null || current.windowSeconds === null) return null;
  const windowMs = current.windowSeconds * 1000;
  const currentReset = current.resetsAt.getTime();
  const uNow = (now.getTime() - (currentReset - windowMs)) / windowMs;
  if (!(uNow > 0 && uNow <= 1)) return null;

  const byReset = new Map<number, QuotaReading[]>();
  for (const sample of history) {
    if (sample.provider !== current.provider || sample.account !== current.account || sample.window !== current.window) continue;
    if (sample.usedRatio === null || sample.resetsAt === null) continue;
    const reset = Math.round(sample.resetsAt.getTime() / RESET_BUCKET_MS) * RESET_BUCKET_MS;
    if (reset >= currentReset - RESET_BUCKET_MS || reset > now.getTime()) continue;
    const list = byReset.get(reset) ?? [];
    list.push(sample);
    byReset.set(reset, list);
  }
  const weeks: { curve: number[]; weight: number }[] = [];
  for (const [reset, samples] of byReset) {
    const start = reset - windowMs;
    const inWindow = samples.filter((sample) => sample.observedAt.getTime() >= start && sample.observedAt.getTime() <= reset);
    if (inWindow.length < 6) continue;
    if (!inWindow.some((sample) => sample.observedAt.getTime() - start <= DAY_MS)) continue;
    if (!inWindow.some((sample) => reset - sample.observedAt.getTime() <= DAY_MS)) continue;
    const points = inWindow
      .map((sample) => ({ u: (sample.observedAt.getTime() - start) / windowMs, used: sample.usedRatio as number }))
      .sort((a, b) => a.u - b.u);
    const ageWeeks = (currentReset - reset) / windowMs;
    weeks.push({ curve: curveOnGrid(points), weight: Math.exp(-ageWeeks / 3) });
  }
  if (weeks.length < 3) return null;

  const sumW = weeks.reduce((sum, week) => sum + week.weight, 0);
  const sumW2 = weeks.reduce((sum, week) => sum + week.weight * week.weight, 0);
  const nEff = (sumW * sumW) / sumW2;
  const lambda = Math.min(1, Math.max(0, (nEff - 2) / 6));
  const at = (curve: number[], u: number) => interpolate(curve, u);
  const typical = weightedMedian(weeks.map((week) => ({ value: at(week.curve, uNow), weight: week.weight })));
  const expectedRatio = Math.min(uNow, lambda * typical + (1 - lambda) * uNow);
  const used = current.usedRatio;

  let runOutWeight = 0;
  const etas: { value: number; weight: number }[] = [];
  for (const week of weeks) {
    const shift = used - at(week.curve, uNow);
    if ((week.curve[GRID - 1] as number) + shift < 1) continue;
    runOutWeight += week.weight;
    for (let index = 0; index < GRID; index += 1) {
      const u = index / (GRID - 1);
      if (u <= uNow) continue;
      if ((week.curve[index] as number) + shift >= 1) {
        etas.push({ value: (u - uNow) * windowMs, weight: week.weight });
        break;
      }
    }
  }
  const runOutProbability = weeks.length >= 5 ? Math.min(1, Math.max(0, (runOutWeight + 0.5) / (sumW + 1))) : null;
  const mostlyRunsOut = runOutProbability !== null ? runOutProbability >= 0.5 : runOutWeight > sumW / 2;
  const exhaustsAt = used >= 1 ? now : mostlyRunsOut && etas.length > 0 ? new Date(now.getTime() + weightedMedian(etas)) : null;
  return { weeks: weeks.length, expectedRatio, deltaRatio: used - expectedRatio, runOutProbability, exhaustsAt };
}

/** A monotone curve through (0,0) and the samples, held flat after the last one, sampled on the grid. */
function curveOnGrid(points: readonly { u: number; used: number }[]): number[] {
  const anchored = [{ u: 0, used: 0 }, ...points];
  const curve: number[] = [];
  let cursor = 0;
  let running = 0;
  for (let index = 0; index < GRID; index += 1) {
    const u = index / (GRID - 1);
    while (cursor < anchored.length - 2 && (anchored[cursor + 1] as { u: number }).u < u) cursor += 1;
    const left = anchored[cursor] as { u: number; used: number };
    const right = anchored[cursor + 1];
    let value: number;
    if (!right || u >= right.u) value = (right ?? left).used;
    else value = right.u === left.u ? right.used : left.used + ((right.used - left.used) * (u - left.u)) / (right.u - left.u);
    running = Math.max(running, value);
    curve.push(running);
  }
  // A week that hit its cap early would have gone on at the same rate: extend it
  // through the cap point, so "ran out" weeks still say so when shifted down.
  const capIndex = curve.findIndex((value) => value >= 1);
  if (capIndex > 0 && capIndex < GRID - 1) {
    const capU = capIndex / (GRID - 1);
    const slope = (curve[capIndex] as number) / capU;
    for (let index = capIndex + 1; index < GRID; index += 1) curve[index] = (curve[capIndex] as number) + slope * (index / (GRID - 1) - capU);
  }
  return curve;
}

function interpolate(curve: readonly number[], u: number): number {
  const position = Math.min(1, Math.max(0, u)) * (GRID - 1);
  const low = Math.floor(position);
  const high = Math.min(GRID - 1, low + 1);
  const lowValue = curve[low] as number;
  return lowValue + ((curve[high] as number) - lowValue) * (position - low);
}

function weightedMedian(items: readonly { value: number; weight: number }[]): number {
  const sorted = [...items].sort((a, b) => a.value - b.value);
  const half = sorted.reduce((sum, item) => sum + item.weight, 0) / 2;
  let cumulative = 0;
  for (const item of sorted) {
    cumulative += item.weight;
    if (cumulative >= half) return item.value;
  }
  return (sorted[sorted.length - 1] as { value: number }).value;
}
