/**
 * The PromQL for the exact hourly increase of a counter, summed by `labels`:
 *
 *   sum by (<labels>) (sum_over_time((
 *       ((M{sel} - last_over_time(M{sel}[<gap>] offset <scrape>)) >= 0)
 *     or (M{sel} + 0)
 *   )[3599999ms:<scrape>]))
 *
 * Inside the subquery, every scrape interval contributes the difference to the
 * last sample seen before it (the series' own previous value: deltas are taken
 * per series, before any sum, so one series' restart cannot hide another's
 * growth). A difference below zero is a restart, and a series with no earlier
 * sample within `gap` is new: in both cases the `or` branch counts the value
 * itself, since the counter started from zero (invariant 3). Nothing is
 * extrapolated, so the hourly sums are exact integers, unlike increase().
 *
 * Evaluated by query_range with step=1h, the point at t covers (t-1h, t]: the
 * range is one millisecond short of an hour because Prometheus 2.x ranges are
 * closed at the left, and a subquery point on the boundary would be counted
 * in two hours.
 */
export function buildHourlyIncreaseQuery(options: {
  readonly metric: string;
  readonly selector: string;
  readonly labels: readonly string[];
  readonly scrapeIntervalMs: number;
  readonly seriesGapMs: number;
}): string {
  const series = `${options.metric}{${options.selector.trim()}}`;
  const step = `${options.scrapeIntervalMs / 1000}s`;
  const gap = `${Math.round(options.seriesGapMs / 1000)}s`;
  const perScrape = `((${series} - last_over_time(${series}[${gap}] offset ${step})) >= 0) or (${series} + 0)`;
  return `sum by (${options.labels.join(', ')}) (sum_over_time((${perScrape})[3599999ms:${step}]))`;
}
