import type { UsageDimensionValues } from '@utt/postgres';
import type { DataTable } from './data-table';
import { renderTable } from './data-table';
import { BREAKDOWN_DIMENSIONS, DIMENSION_LABELS, STACK_DIMENSIONS } from './filters';
import { html, type SafeHtml } from './html';
import type { FormField, Page, PageContext } from './page';
import { addDays, firstOfMonth, formatLocalDate } from './zoned-time';

export const NAVIGATION: readonly { path: string; label: string }[] = [
  { path: '/', label: 'Overview' },
  { path: '/sources', label: 'Sources' },
  { path: '/usage', label: 'Spend & tokens' },
  { path: '/reconciliation', label: 'Reconciliation' },
  { path: '/agents', label: 'Coding agents' },
  { path: '/calls', label: 'Calls' },
  { path: '/tags', label: 'Tags' },
  { path: '/quotas', label: 'Quotas' },
  { path: '/quality', label: 'Data quality' },
];

/** The page shell: navigation, the time-zone marker, the filter form, then the content. */
export function renderLayout(context: PageContext, page: Page, title: string, content: SafeHtml, form: SafeHtml): SafeHtml {
  const zone = context.options.timeZone;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · utt</title>
<link rel="stylesheet" href="${context.href('/style.css')}">
<link rel="icon" href="data:,">
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
<p class="brand"><a href="${context.href('/')}">utt</a> <span>token &amp; spend ledger</span></p>
<nav aria-label="Dashboard pages"><ul>${NAVIGATION.map(
    (item) =>
      html`<li><a href="${context.href(item.path)}"${item.path === page.path ? html` aria-current="page"` : ''}>${item.label}</a></li>`,
  )}</ul></nav>
<p class="zone" id="time-zone">Times and days in <strong>${zone}</strong> · as of ${formatLocalDate(context.today)}</p>
</header>
<main id="main">
<h1>${title}</h1>
${form}
${content}
</main>
<footer><p>Read-only view of the utt store. <a href="${context.href('/api/v1')}">JSON API</a>.</p></footer>
</body>
</html>`;
}

export function renderFilterForm(context: PageContext, fields: readonly FormField[], values: UsageDimensionValues | null, extra?: SafeHtml): SafeHtml {
  if (fields.length === 0 && extra === undefined) return html``;
  const { filters } = context;
  const select = (name: 'provider' | 'model' | 'source', label: string, options: readonly string[]) =>
    html`<p><label for="f-${name}">${label}</label>
<select id="f-${name}" name="${name}"><option value="">All</option>${options.map(
      (option) => html`<option value="${option}"${filters[name] === option ? html` selected` : ''}>${option}</option>`,
    )}${filters[name] !== '' && !options.includes(filters[name]) ? html`<option value="${filters[name]}" selected>${filters[name]}</option>` : ''}</select></p>`;
  const presets: [string, string, string][] = [
    ['Last 7 days', formatLocalDate(addDays(context.today, -6)), formatLocalDate(context.today)],
    ['Last 30 days', formatLocalDate(addDays(context.today, -29)), formatLocalDate(context.today)],
    ['This month', formatLocalDate(firstOfMonth(context.today)), formatLocalDate(context.today)],
    ['Last 90 days', formatLocalDate(addDays(context.today, -89)), formatLocalDate(context.today)],
  ];
  const presetLink = ([label, from, to]: [string, string, string]) => {
    const params = new URLSearchParams(context.url.searchParams);
    params.delete('format');
    params.delete('table');
    params.set('from', from);
    params.set('to', to);
    return html`<li><a href="${context.href(pathOf(context), params)}">${label}</a></li>`;
  };
  return html`<form class="filters" method="get" action="${context.href(pathOf(context))}" aria-label="Filters">
${fields.includes('range')
    ? html`<p><label for="f-from">From</label><input id="f-from" name="from" type="date" value="${formatLocalDate(filters.from)}"></p>
<p><label for="f-to">To</label><input id="f-to" name="to" type="date" value="${formatLocalDate(filters.to)}"></p>`
    : ''}
${fields.includes('source') ? select('source', 'Source system', values?.sourceSystems ?? []) : ''}
${fields.includes('provider') ? select('provider', 'Provider', values?.providers ?? []) : ''}
${fields.includes('model') ? select('model', 'Model', values?.models ?? []) : ''}
${fields.includes('stack')
    ? html`<p><label for="f-stack">Stack by</label><select id="f-stack" name="stack">${STACK_DIMENSIONS.map(
        (option) => html`<option value="${option}"${filters.stack === option ? html` selected` : ''}>${DIMENSION_LABELS[option]}</option>`,
      )}</select></p>`
    : ''}
${fields.includes('by')
    ? html`<p><label for="f-by">Group by</label><select id="f-by" name="by">${BREAKDOWN_DIMENSIONS.map(
        (option) => html`<option value="${option}"${filters.by === option ? html` selected` : ''}>${DIMENSION_LABELS[option]}</option>`,
      )}</select></p>`
    : ''}
${extra ?? ''}
<p class="submit"><button type="submit">Apply</button></p>
${fields.includes('range') ? html`<ul class="presets" aria-label="Quick ranges">${presets.map(presetLink)}</ul>` : ''}
</form>`;
}

function pathOf(context: PageContext): string {
  const base = context.options.basePath;
  const path = context.url.pathname.slice(base.length) || '/';
  return path;
}

/** A table with links to export it (the same URL with format=csv / format=json). */
export function tableWithExports(context: PageContext, table: DataTable): SafeHtml {
  const link = (format: 'csv' | 'json') => {
    const params = new URLSearchParams(context.url.searchParams);
    params.set('format', format);
    params.set('table', table.id);
    return context.href(pathOf(context), params);
  };
  return renderTable(
    table,
    table.rows.length > 0
      ? html`<p class="exports">Export this table: <a href="${link('csv')}" download>CSV</a> · <a href="${link('json')}">JSON</a></p>`
      : '',
  );
}

export const STYLE_SHEET = `
:root { color-scheme: light; --ink: #1a1a1a; --muted: #4a4a4a; --line: #d0d0d0; --accent: #0b57a4; --warn-bg: #fff4d6; --warn-ink: #5c3d00; --bad-bg: #fde7e7; --bad-ink: #8a1111; --ok-ink: #1d5e20; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 "Liberation Sans", Arial, Helvetica, sans-serif; color: var(--ink); background: #fff; }
a { color: var(--accent); }
.skip { position: absolute; left: -9999px; }
.skip:focus { left: 1rem; top: 1rem; background: #fff; padding: .5rem; }
header.top { display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; align-items: center; padding: .75rem 1.5rem; border-bottom: 1px solid var(--line); }
.brand { margin: 0; font-weight: bold; } .brand span { font-weight: normal; color: var(--muted); }
nav ul { display: flex; flex-wrap: wrap; gap: .25rem 1rem; list-style: none; margin: 0; padding: 0; }
nav a[aria-current="page"] { font-weight: bold; color: var(--ink); text-decoration: none; border-bottom: 2px solid var(--ink); }
.zone { margin: 0 0 0 auto; color: var(--muted); }
main { padding: 1rem 1.5rem 2rem; max-width: 1200px; }
h1 { font-size: 1.6rem; margin: .5rem 0 1rem; } h2 { font-size: 1.15rem; margin: 1.5rem 0 .5rem; }
form.filters { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: flex-end; padding: .75rem; border: 1px solid var(--line); border-radius: 6px; }
form.filters p { margin: 0; display: flex; flex-direction: column; }
form.filters label { font-size: .85rem; color: var(--muted); }
form.filters input, form.filters select, form.filters button { font: inherit; padding: .25rem .4rem; }
.presets { display: flex; gap: .75rem; list-style: none; margin: 0; padding: 0; width: 100%; font-size: .9rem; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(210px, 1fr)); gap: .75rem; margin: 1rem 0; padding: 0; list-style: none; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: .75rem; }
.card h2 { margin: 0; font-size: .9rem; color: var(--muted); font-weight: normal; }
.card .value { font-size: 1.5rem; font-weight: bold; margin: .25rem 0; }
.card p { margin: 0; font-size: .85rem; color: var(--muted); }
.banner { border-radius: 6px; padding: .75rem 1rem; margin: 1rem 0; }
.banner.warn { background: var(--warn-bg); color: var(--warn-ink); }
.banner.bad { background: var(--bad-bg); color: var(--bad-ink); }
.banner.ok { border: 1px solid var(--line); color: var(--ok-ink); }
.banner a { color: inherit; }
.table-scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { padding: .3rem .5rem; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
thead th { border-bottom: 2px solid var(--ink); }
.num { text-align: right; font-variant-numeric: tabular-nums; }
tbody th { font-weight: normal; }
.empty { color: var(--muted); font-style: italic; }
.exports { margin: 0 0 .25rem; font-size: .85rem; }
figure.chart { margin: 1rem 0; }
figure.chart figcaption { font-weight: bold; margin-bottom: .25rem; }
.legend { display: flex; flex-wrap: wrap; gap: .25rem 1rem; list-style: none; margin: .25rem 0 0; padding: 0; font-size: .85rem; }
.swatch { display: inline-block; width: .8rem; height: .8rem; margin-right: .3rem; vertical-align: -1px; }
.c0 { background: #0072B2; } .c1 { background: #E69F00; } .c2 { background: #009E73; } .c3 { background: #CC79A7; } .c4 { background: #56B4E9; }
.c5 { background: #D55E00; } .c6 { background: #8C6D31; } .c7 { background: #7F7F7F; } .c8 { background: #332288; } .c9 { background: #117733; }
.note { color: var(--muted); font-size: .9rem; }
form.filters p.check { flex-direction: row; align-items: center; }
form.filters p.check label { font-size: .95rem; color: var(--ink); }
form.filters p.note { width: 100%; }
.pager ul { display: flex; gap: 1rem; list-style: none; margin: .5rem 0; padding: 0; }
footer { padding: 1rem 1.5rem; color: var(--muted); border-top: 1px solid var(--line); }
`;
