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
  const match = TIMESTAMP.exec(text);
  if (!match) return undefined;
  const [, yearText, monthText, dayText, hourText, minuteText, secondText, fractionText, offsetText] = match;
  const year = Number(yearText);
  const month = Number(monthText);
  const day = Number(dayText);
  const hour = Number(hourText ?? 0);
  const minute = Number(minuteText ?? 0);
  const second = Number(secondText ?? 0);
  const millisecond = fractionText === undefined ? 0 : Math.floor(Number(`0.${fractionText}`) * 1000);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;

  let offsetMinutes = 0;
  if (offsetText !== undefined && offsetText.toUpperCase() !== 'Z') {
    const digits = offsetText.slice(1).replace(':', '');
    const offsetHours = Number(digits.slice(0, 2));
    const offsetRest = Number(digits.slice(2) || 0);
    if (offsetHours > 23 || offsetRest > 59) return undefined;
    offsetMinutes = (offsetText.startsWith('-') ? -1 : 1) * (offsetHours * 60 + offsetRest);
  }

  let utc = Date.UTC(year, month - 1, day, hour, minute, second, millisecond);
  if (year < 100) {
    // Date.UTC reads years 0–99 as 1900–1999.
    const instant = new Date(utc);
    instant.setUTCFullYear(year);
    utc = instant.getTime();
  }
  return new Date(utc - offsetMinutes * 60_000);
}

function daysInMonth(year: number, month: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] ?? 0;
}
