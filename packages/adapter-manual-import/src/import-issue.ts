/**
 * One problem found in an import file: the 1-based physical line (for a JSON
 * array, the line where the element starts), the column it concerns, and what
 * is wrong. Whole-row problems (a CSV row with the wrong number of fields, an
 * NDJSON line that is not JSON) name the field `row`.
 */
export type ImportIssue = {
  readonly line: number;
  readonly field: string;
  readonly message: string;
};
