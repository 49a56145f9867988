import { escapeHtml, html, raw, type SafeHtml } from './html';

export type StackedBarChart = {
  /** Unique on the page: ids of the title and description derive from it. */
  readonly id: string;
  readonly title: string;
  /** A sentence for screen readers: what is drawn and the headline number. */
  readonly description: string;
  /** x positions in order (days). */
  readonly categories: readonly string[];
  /** One stacked layer per series, values aligned with categories (0 when absent). */
  readonly series: readonly { readonly name: string; readonly values: readonly number[] }[];
  readonly formatValue: (value: number) => string;
};

/** Okabe–Ito and Tableau hues: distinguishable with the common colour-vision deficiencies. */
export const SERIES_COLOURS = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#8C6D31', '#7F7F7F', '#332288', '#117733'];

const WIDTH = 860;
const HEIGHT = 260;
const MARGIN = { top: 12, right: 12, bottom: 34, left: 72 };

/**
 * A stacked bar chart as SVG text, drawn on the server: no script, a title
 * and description for assistive technology, a native tooltip (<title>) on
 * every bar segment, and an HTML legend. Pages put the same numbers in a
 * table beside it.
 */
export function renderStackedBarChart(chart: StackedBarChart): SafeHtml {
  const totals = chart.categories.map((_, index) => chart.series.reduce((sum, series) => sum + Math.max(0, series.values[index] ?? 0), 0));
  const max = niceMax(Math.max(0, ...totals));
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const step = chart.categories.length > 0 ? plotWidth / chart.categories.length : plotWidth;
  const barWidth = Math.max(1, step * 0.72);
  const y = (value: number) => MARGIN.top + plotHeight - (max === 0 ? 0 : (value / max) * plotHeight);
  const parts: string[] = [];
  for (const tick of [0, max / 2, max]) {
    const tickY = y(tick).toFixed(1);
    parts.push(
      `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${tickY}" y2="${tickY}" stroke="#d0d0d0" stroke-width="1"/>`,
      `<text x="${MARGIN.left - 6}" y="${tickY}" text-anchor="end" dominant-baseline="middle" font-size="11" fill="#333">${escapeHtml(chart.formatValue(tick))}</text>`,
    );
  }
  const labelEvery = Math.max(1, Math.ceil(chart.categories.length / 10));
  chart.categories.forEach((category, index) => {
    const x = MARGIN.left + index * step + (step - barWidth) / 2;
    let base = 0;
    chart.series.forEach((series, seriesIndex) => {
      const value = Math.max(0, series.values[index] ?? 0);
      if (value === 0) return;
      const top = y(base + value);
      const height = y(base) - top;
      base += value;
      parts.push(
        `<rect x="${x.toFixed(1)}" y="${top.toFixed(1)}" width="${barWidth.toFixed(1)}" height="${Math.max(0.5, height).toFixed(1)}" fill="${SERIES_COLOURS[seriesIndex % SERIES_COLOURS.length]}"><title>${escapeHtml(`${category} · ${series.name}: ${chart.formatValue(value)}`)}</title></rect>`,
      );
    });
    if (index % labelEvery === 0) {
      parts.push(
        `<text x="${(x + barWidth / 2).toFixed(1)}" y="${HEIGHT - MARGIN.bottom + 16}" text-anchor="middle" font-size="11" fill="#333">${escapeHtml(category.length === 10 ? category.slice(5) : category)}</text>`,
      );
    }
  });
  const titleId = `${chart.id}-title`;
  const descId = `${chart.id}-desc`;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="100%" role="img" aria-labelledby="${titleId} ${descId}" focusable="false"><title id="${titleId}">${escapeHtml(chart.title)}</title><desc id="${descId}">${escapeHtml(chart.description)}</desc>${parts.join('')}</svg>`;
  return html`<figure class="chart" id="${chart.id}">
<figcaption>${chart.title}</figcaption>
${raw(svg)}
<ul class="legend" aria-label="Legend: ${chart.title}">${chart.series.map(
    (series, index) => html`<li><span class="swatch c${index % SERIES_COLOURS.length}" aria-hidden="true"></span>${series.name}</li>`,
  )}</ul>
</figure>`;
}

/** The smallest 1, 2 or 5 × 10^n at or above the value, so ticks read cleanly. */
function niceMax(value: number): number {
  if (value <= 0) return 0;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const factor of [1, 2, 5, 10]) {
    if (factor * magnitude >= value) return factor * magnitude;
  }
  return 10 * magnitude;
}
