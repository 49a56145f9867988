const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?\s*([Zz]|[+-]\d{2}(?::?\d{2})?)?)?$/;

/**
 * An ISO 8601 date or timestamp as an instant. `2026-10-01` is UTC midnight; a
 * timestamp without an offset is UTC; `Z`, `+02`, `+0200` and `+02:00` are
 * offsets; a space may stand for the `T` (as PostgreSQL and spreadsheets write
 * it). Returns undefined for anything else, including impossible dates such as
 * 2026-02-30.
 */
export function parseImportTimestamp(text: string): Date | undefined {
  const ms = parseImportTimestampMs(text);
  return Number.isNaN(ms) ? undefined : new Date(ms);
}

const ZERO = 48;

/**
 * parseImportTimestamp as milliseconds since the epoch (NaN when refused),
 * without allocating: an export of a million requests writes the same
 * `2026-10-01T13:05:09.123Z` form a million times, so that form is read
 * digit by digit and any other goes through the full pattern.
 */
export function parseImportTimestampMs(text: string): number {
  const fast = parseUtcTimestampAt(text, 0, text.length);
  return Number.isNaN(fast) ? slowMs(text) : fast;
}

/**
 * The common `2026-10-01T13:05:09.123Z` form (fraction optional) between
 * `start` and `end` of a longer text, such as a line of a CSV file, read in
 * place; NaN for anything else, valid or not (parseImportTimestampMs decides).
 */
export function parseUtcTimestampAt(text: string, start: number, end: number): number {
  const length = end - start;
  if (
    !(length === 20 || (length >= 22 && text.charCodeAt(start + 19) === 46)) || // 46: '.'
    text.charCodeAt(end - 1) !== 90 || // 'Z'
    text.charCodeAt(start + 4) !== 45 ||
    text.charCodeAt(start + 7) !== 45 ||
    text.charCodeAt(start + 10) !== 84 || // 'T'
    text.charCodeAt(start + 13) !== 58 ||
    text.charCodeAt(start + 16) !== 58
  ) {
    return Number.NaN;
  }
  // Each digit as 0–9; anything else (NaN past the end, or another character) makes `bad` non-zero.
  const d0 = text.charCodeAt(start) - ZERO;
  const d1 = text.charCodeAt(start + 1) - ZERO;
  const d2 = text.charCodeAt(start + 2) - ZERO;
  const d3 = text.charCodeAt(start + 3) - ZERO;
  const d5 = text.charCodeAt(start + 5) - ZERO;
  const d6 = text.charCodeAt(start + 6) - ZERO;
  const d8 = text.charCodeAt(start + 8) - ZERO;
  const d9 = text.charCodeAt(start + 9) - ZERO;
  const d11 = text.charCodeAt(start + 11) - ZERO;
  const d12 = text.charCodeAt(start + 12) - ZERO;
  const d14 = text.charCodeAt(start + 14) - ZERO;
  const d15 = text.charCodeAt(start + 15) - ZERO;
  const d17 = text.charCodeAt(start + 17) - ZERO;
  const d18 = text.charCodeAt(start + 18) - ZERO;
  let bad = (d0 | d1 | d2 | d3 | d5 | d6 | d8 | d9 | d11 | d12 | d14 | d15 | d17 | d18) & ~15;
  bad |= (d0 > 9 ? 1 : 0) | (d1 > 9 ? 1 : 0) | (d2 > 9 ? 1 : 0) | (d3 > 9 ? 1 : 0) | (d5 > 9 ? 1 : 0) | (d6 > 9 ? 1 : 0) | (d8 > 9 ? 1 : 0);
  bad |= (d9 > 9 ? 1 : 0) | (d11 > 9 ? 1 : 0) | (d12 > 9 ? 1 : 0) | (d14 > 9 ? 1 : 0) | (d15 > 9 ? 1 : 0) | (d17 > 9 ? 1 : 0) | (d18 > 9 ? 1 : 0);
  if (bad !== 0) return Number.NaN;
  const year = d0 * 1000 + d1 * 100 + d2 * 10 + d3;
  const month = d5 * 10 + d6;
  const day = d8 * 10 + d9;
  const hour = d11 * 10 + d12;
  const minute = d14 * 10 + d15;
  const second = d17 * 10 + d18;
  let millisecond = 0;
  let scale = 100;
  for (let index = start + 20; index < end - 1; index++) {
    const value = text.charCodeAt(index) - ZERO;
    if (value < 0 || value > 9) return Number.NaN;
    millisecond += value * scale;
    scale /= 10;
  }
  millisecond = Math.floor(millisecond);
  // Years 0–99 take the general path (Date.UTC reads them as 1900–1999).
  if (year < 100 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return Number.NaN;
  if (hour > 23 || minute > 59 || second > 59) return Number.NaN;
  return daysFromCivil(year, month, day) * 86_400_000 + hour * 3_600_000 + minute * 60_000 + second * 1000 + millisecond;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm), without a Date. */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

function slowMs(text: string): number {
  const match = TIMESTAMP.exec(text);
  if (!match) return Number.NaN;
  const [, yearText, monthText, dayText, hourText, minuteText, secondText, fractionText, offsetText] = match;
  const year = Number(yearText);
  const month = Number(monthText);
  const day = Number(dayText);
  const hour = Number(hourText ?? 0);
  const minute = Number(minuteText ?? 0);
  const second = Number(secondText ?? 0);
  const millisecond = fractionText === undefined ? 0 : Math.floor(Number(`0.${fractionText}`) * 1000);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return Number.NaN;
  if (hour > 23 || minute > 59 || second > 59) return Number.NaN;

  let offsetMinutes = 0;
  if (offsetText !== undefined && offsetText.toUpperCase() !== 'Z') {
    const digits = offsetText.slice(1).replace(':', '');
    const offsetHours = Number(digits.slice(0, 2));
    const offsetRest = Number(digits.slice(2) || 0);
    if (offsetHours > 23 || offsetRest > 59) return Number.NaN;
    offsetMinutes = (offsetText.startsWith('-') ? -1 : 1) * (offsetHours * 60 + offsetRest);
  }

  let utc = Date.UTC(year, month - 1, day, hour, minute, second, millisecond);
  if (year < 100) {
    // Date.UTC reads years 0–99 as 1900–1999.
    const instant = new Date(utc);
    instant.setUTCFullYear(year);
    utc = instant.getTime();
  }
  return utc - offsetMinutes * 60_000;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return DAYS_IN_MONTH[month - 1] ?? 0;
}
