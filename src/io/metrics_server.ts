/**
 * The Prometheus endpoint: an HTTP server (Deno.serve) answering `GET /metrics` with the
 * text exposition the caller renders on each scrape. Mechanism only: what is shown comes
 * from io/metrics_text.ts over the daemon's reports.
 *
 * @module
 */
import { errorMessage } from "../base/errors.ts";

/** Content type of the Prometheus text format. */
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** A running endpoint. */
export interface MetricsServerHandle {
  /** The port it listens on (useful with port 0). */
  port: number;
  /** Stops listening and waits for open requests. */
  close(): Promise<void>;
}

/** Extra JSON routes (path to a value producer), e.g. /history. */
export type JsonRoutes = Record<string, () => unknown>;

/** A 500 answer saying what failed. */
function errorResponse(error: unknown): Response {
  return new Response(`error: ${errorMessage(error)}\n`, { status: 500 });
}

/**
 * Answers one request: /metrics, the extra JSON routes, a pointer at /, 404 elsewhere, 405
 * for other methods.
 */
export function handleMetricsRequest(
  request: Request,
  render: () => string,
  routes: JsonRoutes = {},
): Response {
  const path = new URL(request.url).pathname;
  if (request.method !== "GET" && request.method !== "HEAD") {
    return new Response("method not allowed\n", { status: 405, headers: { allow: "GET, HEAD" } });
  }
  if (path === "/metrics") {
    let body: string;
    try {
      body = render();
    } catch (error) {
      return errorResponse(error);
    }
    return new Response(request.method === "HEAD" ? null : body, {
      headers: { "content-type": METRICS_CONTENT_TYPE },
    });
  }
  if (Object.hasOwn(routes, path)) {
    return new Response(request.method === "HEAD" ? null : JSON.stringify(routes[path]()), {
      headers: { "content-type": "application/json" },
    });
  }
  if (path === "/") {
    return new Response("tempus metrics: see /metrics\n", {
      headers: { "content-type": "text/plain; charset=utf-8" },
    });
  }
  return new Response("not found\n", { status: 404 });
}

/** Starts the endpoint on `hostname`:`port` (0: any free port). */
export function startMetricsServer(
  listen: { hostname: string; port: number },
  render: () => string,
  routes: JsonRoutes = {},
): Promise<MetricsServerHandle> {
  return new Promise((resolve, reject) => {
    try {
      const server = Deno.serve({
        hostname: listen.hostname,
        port: listen.port,
        onListen: (addr) => {
          resolve({
            port: (addr as Deno.NetAddr).port,
            close: () => server.shutdown(),
          });
        },
        onError: errorResponse,
      }, (request) => handleMetricsRequest(request, render, routes));
    } catch (error) {
      reject(error);
    }
  });
}
