import { formatCount, formatPercent, formatUsd, formatUsdPrecise } from './format';
import { html, type SafeHtml } from './html';

export type CellValue = string | number | null;
/** number: a plain decimal shown as stored (a percentage already × 100, say). */
export type ColumnKind = 'text' | 'number' | 'count' | 'usd' | 'percent' | 'timestamp';

export type Column = {
  readonly key: string;
  readonly label: string;
  readonly kind: ColumnKind;
  /** Shown for a null value (e.g. "unpriced"); the export leaves the cell empty. */
  readonly nullText?: string;
  /** usd: show the digits a small amount needs ($0.0042) instead of cents. */
  readonly precise?: boolean;
};

/**
 * One table of a page. The page renders it, and `format=csv|json` exports
 * the very same rows and columns, so an export is exactly what is shown.
 */
export type DataTable = {
  readonly id: string;
  readonly caption: string;
  readonly columns: readonly Column[];
  readonly rows: readonly Record<string, CellValue>[];
  /** Shown instead of an empty table: says how to fill it. */
  readonly empty: string;
};

export function formatCell(column: Column, value: CellValue): string {
  if (value === null) return column.nullText ?? (column.kind === 'usd' ? '—' : column.kind === 'text' ? '' : '–');
  switch (column.kind) {
    case 'usd':
      return column.precise ? formatUsdPrecise(String(value)) : formatUsd(String(value));
    case 'count':
      return formatCount(Number(value));
    case 'percent':
      return formatPercent(Number(value));
    default:
      return String(value);
  }
}

export function renderTable(table: DataTable, exportLinks: SafeHtml | string = ''): SafeHtml {
  if (table.rows.length === 0) {
    return html`<section class="table-block" aria-labelledby="${table.id}-caption"><h2 id="${table.id}-caption">${table.caption}</h2><p class="empty">${table.empty}</p></section>`;
  }
  const numeric = (column: Column) => column.kind !== 'text' && column.kind !== 'timestamp';
  return html`<section class="table-block" aria-labelledby="${table.id}-caption">
<h2 id="${table.id}-caption">${table.caption}</h2>${exportLinks}
<div class="table-scroll" tabindex="0" role="region" aria-label="${table.caption} (scrollable)"><table id="${table.id}">
<thead><tr>${table.columns.map((column) => html`<th scope="col"${numeric(column) ? html` class="num"` : ''}>${column.label}</th>`)}</tr></thead>
<tbody>${table.rows.map(
    (row) =>
      html`<tr>${table.columns.map((column, index) =>
        index === 0
          ? html`<th scope="row">${formatCell(column, row[column.key] ?? null)}</th>`
          : html`<td${numeric(column) ? html` class="num"` : ''} data-value="${row[column.key] ?? ''}">${formatCell(column, row[column.key] ?? null)}</td>`,
      )}</tr>`,
  )}</tbody>
</table></div></section>`;
}
