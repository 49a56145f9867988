// The handler and its options.
export { createDashboardHandler, type DashboardHandler } from './dashboard-handler';
export type { DashboardOptions, DashboardSource } from './dashboard-options';

// Serving it: node:http / Express listener, or a standalone server (what `utt serve` runs).
export { toNodeListener } from './node-listener';
export {
  DashboardExposureError,
  DEFAULT_DASHBOARD_PORT,
  serveDashboard,
  type RunningDashboard,
  type ServeDashboardOptions,
} from './serve-dashboard';

// Pieces other tools reuse: the security checks, the CSV guard, the anomaly rule, the JSON API's list.
export { isAllowedHost, isLoopbackAddress, SESSION_COOKIE } from './security';
export { guardFormula, tableToCsv } from './csv';
export { ANOMALY_RULE } from './pages/overview-page';
export { API_ENDPOINTS } from './json-api';
export { PACE_RULE } from './pages/quotas-page';
