/**
 * Calendar periods in a reporting time zone: a day runs from local midnight to
 * local midnight (23 or 25 hours across a DST change), a month from the 1st.
 */
export type CalendarPeriod = { readonly start: Date; readonly end: Date };

const formatters = new Map<string, Intl.DateTimeFormat>();

function partsIn(instant: Date, timeZone: string): { year: number; month: number; day: number; hour: number; minute: number; second: number } {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, formatter);
  }
  const values: Record<string, number> = {};
  for (const part of formatter.formatToParts(instant)) if (part.type !== 'literal') values[part.type] = Number(part.value);
  return {
    year: values.year ?? 1970,
    month: values.month ?? 1,
    day: values.day ?? 1,
    hour: values.hour ?? 0,
    minute: values.minute ?? 0,
    second: values.second ?? 0,
  };
}

const localDate = (parts: { year: number; month: number; day: number }) => parts.year * 10_000 + parts.month * 100 + parts.day;

/**
 * The UTC instant a local date begins in a zone: its midnight (the earlier one
 * when a DST change repeats it), or the end of the gap when the clocks skip
 * midnight (Beirut and Cairo go from 00:00 to 01:00 in spring).
 */
function zonedToUtc(year: number, month: number, day: number, timeZone: string): Date {
  const wall = Date.UTC(year, month - 1, day);
  let guess = wall;
  // Two rounds settle the offset, DST changes included.
  for (let round = 0; round < 3; round += 1) {
    const parts = partsIn(new Date(guess), timeZone);
    const seen = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second);
    const next = guess + (wall - seen);
    if (next === guess) break;
    guess = next;
  }
  // East of UTC the rounds settle on the offset they start from: a skipped midnight (Beirut, Cairo: 00:00 → 01:00)
  // on 23:00 of the day before, a repeated one (Gaza: 01:00 → 00:00) on the later midnight. The day begins at the
  // first instant whose local date is the day: found to the second within six hours (no DST change is larger).
  const wanted = localDate({ year, month, day });
  if (localDate(partsIn(new Date(guess), timeZone)) < wanted || localDate(partsIn(new Date(guess - 1000), timeZone)) >= wanted) {
    let before = guess - 6 * 3_600_000;
    let onTheDay = guess + 6 * 3_600_000;
    while (onTheDay - before > 1000) {
      const middle = before + Math.floor((onTheDay - before) / 2000) * 1000;
      if (localDate(partsIn(new Date(middle), timeZone)) >= wanted) onTheDay = middle;
      else before = middle;
    }
    guess = onTheDay;
  }
  return new Date(guess);
}

export function calendarPeriod(instant: Date, period: 'day' | 'month', timeZone: string): CalendarPeriod {
  const { year, month, day } = partsIn(instant, timeZone);
  if (period === 'day') {
    const start = zonedToUtc(year, month, day, timeZone);
    const next = new Date(Date.UTC(year, month - 1, day + 1));
    return { start, end: zonedToUtc(next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate(), timeZone) };
  }
  const start = zonedToUtc(year, month, 1, timeZone);
  const next = new Date(Date.UTC(year, month, 1));
  return { start, end: zonedToUtc(next.getUTCFullYear(), next.getUTCMonth() + 1, 1, timeZone) };
}
