/**
 * Request routing: every request a source sends gets an engine-wide request id, which the
 * transport reports back with the reply, the kernel transmit timestamp or a late send
 * failure; the route names the source and the source's own token for that request.
 *
 * @module
 */
import type { Source } from "../source/source.ts";

/** Where the answer to one request goes. */
export interface Route {
  /** The source that sent the request. */
  readonly source: Source;
  /** The source's token for the request. */
  readonly token: number;
}

/** The open requests by request id. */
export class RequestRoutes {
  readonly #routes = new Map<number, Route>();
  #next = 1;

  /**
   * Opens a route for `source`'s request `token` and returns its request id; routes of the
   * source that it no longer expects an answer to are dropped first.
   */
  open(source: Source, token: number): number {
    for (const [rid, route] of this.#routes) {
      if (route.source === source && !source.expects(route.token)) this.#routes.delete(rid);
    }
    const rid = this.#next++;
    this.#routes.set(rid, { source, token });
    return rid;
  }

  /** The route of request `requestId`, if still open. */
  get(requestId: number): Route | undefined {
    return this.#routes.get(requestId);
  }

  /** Drops every route of `source` (stopped or removed). */
  dropSource(source: Source): void {
    for (const [rid, route] of this.#routes) if (route.source === source) this.#routes.delete(rid);
  }
}
