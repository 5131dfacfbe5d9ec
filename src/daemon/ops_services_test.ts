import assert from "node:assert/strict";
import { metricsUrl } from "./ops_services.ts";

Deno.test("metricsUrl: an IPv4 address as is, an IPv6 address in brackets", () => {
  assert.equal(metricsUrl("127.0.0.1", 9100), "http://127.0.0.1:9100/metrics");
  // The log line used to print the configured address bare: http://::1:9100/metrics.
  assert.equal(metricsUrl("::1", 9100), "http://[::1]:9100/metrics");
});
