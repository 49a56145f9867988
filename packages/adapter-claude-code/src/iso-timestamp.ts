/**
 * Date.parse of a timestamp written `YYYY-MM-DDTHH:MM:SS.sssZ` (as Claude
 * Code writes every one), read from its UTF-8 bytes `bytes[start, end)`
 * without decoding them: Date.parse of the decoded text costs more than the
 * rest of reading a line's counters. NaN when the bytes are not exactly of
 * that form with every field in range; the caller then decodes the text and
 * asks Date.parse, so any other form reads as it always did.
 */
export function isoTimestampMs(bytes: Uint8Array, start: number, end: number): number {
  if (end - start !== 24) return Number.NaN;
  if (
    bytes[start + 4] !== DASH ||
    bytes[start + 7] !== DASH ||
    bytes[start + 10] !== LETTER_T ||
    bytes[start + 13] !== COLON ||
    bytes[start + 16] !== COLON ||
    bytes[start + 19] !== DOT ||
    bytes[start + 23] !== LETTER_Z
  ) {
    return Number.NaN;
  }
  const year = digitsAt(bytes, start, 4);
  const month = digitsAt(bytes, start + 5, 2);
  const day = digitsAt(bytes, start + 8, 2);
  const hour = digitsAt(bytes, start + 11, 2);
  const minute = digitsAt(bytes, start + 14, 2);
  const second = digitsAt(bytes, start + 17, 2);
  const millisecond = digitsAt(bytes, start + 20, 3);
  // Out of range (or not digits, -1): left to Date.parse, which has its own leniencies (24:00, a 30th of February).
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return Number.NaN;
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59 || millisecond < 0) return Number.NaN;
  return daysSinceEpoch(year, month, day) * 86_400_000 + hour * 3_600_000 + minute * 60_000 + second * 1000 + millisecond;
}

const DASH = 45;
const DOT = 46;
const COLON = 58;
const LETTER_T = 84;
const LETTER_Z = 90;

/** The decimal number written by `count` digits at `at`, or -1 if one is not a digit. */
function digitsAt(bytes: Uint8Array, at: number, count: number): number {
  let value = 0;
  for (let index = at; index < at + count; index += 1) {
    const digit = (bytes[index] as number) - 48;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * Days from 1970-01-01 to a date of the proleptic Gregorian calendar (Howard
 * Hinnant's days_from_civil): exact integer arithmetic, where Date.UTC would
 * read years below 100 as 19xx.
 */
function daysSinceEpoch(year: number, month: number, day: number): number {
  const shifted = month <= 2 ? year - 1 : year;
  const era = Math.floor(shifted / 400);
  const yearOfEra = shifted - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}
