/**
 * The worker's Prometheus endpoint: `GET /metrics` serves Cairn's series (prom-client) followed by the
 * Temporal SDK's own (its Core runtime exports them on a private loopback port, read here on each scrape), so
 * one scrape target carries both. `GET /healthz` answers 200 while the process serves.
 */
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

export interface MetricsServerOptions {
  registry: Registry;
  port: number;
  host?: string;
  /** Where the Temporal SDK's Core runtime serves its metrics (loopback), if it was installed with them. */
  sdkMetricsUrl?: string;
}

export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (path === '/healthz') {
      response.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      return;
    }
    if (path !== '/metrics' || request.method !== 'GET') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics\n');
      return;
    }
    void (async () => {
      const own = await options.registry.metrics();
      const sdk = options.sdkMetricsUrl ? await fetch(options.sdkMetricsUrl, { signal: AbortSignal.timeout(2000) }).then((r) => r.text()).catch(() => '') : '';
      response.writeHead(200, { 'content-type': options.registry.contentType }).end(`${own}${sdk ? `\n${sdk}` : ''}`);
    })().catch((error: Error) => response.writeHead(500).end(`${error.message}\n`));
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => resolveListen());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolveClose) => server.close(() => resolveClose())),
  };
}

/** A loopback port free right now, for the Temporal Core exporter (which cannot report the port it bound). */
export async function freeLoopbackPort(): Promise<number> {
  const probe = createNetServer();
  await new Promise<void>((resolveListen) => probe.listen(0, '127.0.0.1', () => resolveListen()));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolveClose) => probe.close(resolveClose));
  return port;
}
