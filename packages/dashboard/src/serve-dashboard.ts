import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createDashboardHandler } from './dashboard-handler';
import type { DashboardOptions } from './dashboard-options';
import { toNodeListener } from './node-listener';
import { isLoopbackAddress } from './security';

export type ServeDashboardOptions = DashboardOptions & {
  /** Address to bind. Default 127.0.0.1. Any non-loopback address requires `token`. */
  readonly host?: string;
  /** Default 8787; 0 picks a free port. */
  readonly port?: number;
};

export type RunningDashboard = {
  readonly server: Server;
  /** The address to open, e.g. http://127.0.0.1:8787/ (never with the token in it). */
  readonly url: string;
  close(): Promise<void>;
};

export const DEFAULT_DASHBOARD_PORT = 8787;

/** Refused start: a non-loopback bind without a token would show spend to the whole network. */
export class DashboardExposureError extends Error {
  constructor(host: string) {
    super(
      `refusing to serve the dashboard on ${host} without a token: set UTT_SERVE_TOKEN (at least 16 characters) or bind to 127.0.0.1`,
    );
    this.name = 'DashboardExposureError';
  }
}

/**
 * Serves the dashboard on node:http. Loopback by default; anywhere else only
 * with a token, and then the bound address is also allowed as a Host name.
 */
export async function serveDashboard(options: ServeDashboardOptions): Promise<RunningDashboard> {
  const host = options.host ?? '127.0.0.1';
  if (!isLoopbackAddress(host) && !options.token) throw new DashboardExposureError(host);
  const wildcard = host === '0.0.0.0' || host === '::';
  const allowedHosts = [...(options.allowedHosts ?? []), ...(isLoopbackAddress(host) || wildcard ? [] : [host])];
  const handler = createDashboardHandler({ ...options, allowedHosts });
  const server = createServer(toNodeListener(handler));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? DEFAULT_DASHBOARD_PORT, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    server,
    url: `http://${shown}:${address.port}${options.basePath ?? ''}/`,
    close: () =>
      new Promise((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
