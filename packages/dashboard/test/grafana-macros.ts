/**
 * Grafana's PostgreSQL query expansion, re-implemented from Grafana's source
 * for tests: the frontend first interpolates template variables
 * (`${var:sqlstring}`, `${var:raw}`, `$var`), then the backend's macro engine
 * (pkg/tsdb/grafana-postgresql-datasource/macros.go) replaces `$__` macros.
 */
export type GrafanaTimeRange = { readonly from: Date; readonly to: Date };
export type GrafanaVariables = Readonly<Record<string, string | readonly string[]>>;

/** Go's time.RFC3339Nano in UTC: fractional seconds without trailing zeros. */
export function rfc3339Nano(date: Date): string {
  return date.toISOString().replace(/\.(\d*?)0*Z$/, (_, digits: string) => (digits ? `.${digits}Z` : 'Z'));
}

/** gtime.ParseInterval for the units dashboards use. */
export function intervalSeconds(text: string): number {
  const match = /^(\d+)(ms|s|m|h|d|w)$/.exec(text.trim().replace(/^'|'$/g, ''));
  if (!match) throw new Error(`unsupported interval ${text}`);
  const unit = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 }[match[2] as 'ms' | 's' | 'm' | 'h' | 'd' | 'w'];
  return Number(match[1]) * unit;
}

function sqlstring(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

export function interpolateVariables(sql: string, variables: GrafanaVariables): string {
  const format = (name: string, formatName: string | undefined): string => {
    const value = variables[name];
    if (value === undefined) throw new Error(`the query uses $${name}, which is not a dashboard variable`);
    const values = typeof value === 'string' ? [value] : value;
    switch (formatName) {
      case 'sqlstring':
        return values.map(sqlstring).join(',');
      case 'raw':
        return values.join(',');
      case undefined:
        // Grafana quotes only multi-value variables by default in SQL data sources.
        return typeof value === 'string' ? value : values.map(sqlstring).join(',');
      default:
        throw new Error(`unsupported variable format ${formatName}`);
    }
  };
  return sql
    .replace(/\$\{([A-Za-z_]\w*)(?::([a-z]+))?\}/g, (_, name: string, formatName: string | undefined) => format(name, formatName))
    .replace(/\$(?!__)([A-Za-z_]\w*)/g, (_, name: string) => format(name, undefined));
}

function splitArguments(text: string): string[] {
  return text.split(',').map((part) => part.trim());
}

export function expandMacros(sql: string, range: GrafanaTimeRange): string {
  const from = rfc3339Nano(range.from);
  const to = rfc3339Nano(range.to);
  return sql.replace(/\$__(\w+)\(([^()]*)\)/g, (whole, name: string, args: string) => {
    const [column = '', interval = ''] = splitArguments(args);
    switch (name) {
      case 'time':
        return `${column} AS "time"`;
      case 'timeEpoch':
        return `extract(epoch from ${column}) as "time"`;
      case 'timeFilter':
        return `${column} BETWEEN '${from}' AND '${to}'`;
      case 'timeFrom':
        return `'${from}'`;
      case 'timeTo':
        return `'${to}'`;
      case 'timeGroup':
        return `floor(extract(epoch from ${column})/${intervalSeconds(interval)})*${intervalSeconds(interval)}`;
      case 'timeGroupAlias':
        return `floor(extract(epoch from ${column})/${intervalSeconds(interval)})*${intervalSeconds(interval)} AS "time"`;
      case 'unixEpochFilter':
        return `${column} >= ${Math.floor(range.from.getTime() / 1000)} AND ${column} <= ${Math.floor(range.to.getTime() / 1000)}`;
      default:
        throw new Error(`unsupported macro ${whole}`);
    }
  });
}

/** What Grafana sends to PostgreSQL for a panel's rawSql. */
export function expandGrafanaQuery(sql: string, variables: GrafanaVariables, range: GrafanaTimeRange): string {
  const expanded = expandMacros(interpolateVariables(sql, variables), range);
  if (/\$__|\$\{/.test(expanded)) throw new Error(`unexpanded macro or variable left in: ${expanded}`);
  return expanded;
}
