// The metrics tables are keyed by method name and error code: a name such as
// `__proto__` or `toString` is a key like any other.
import { describe, expect, it } from "vitest";
import { ServerMetrics } from "../../src/server/metrics.js";
import { manualRegistry } from "../support/manual-registry.js";

describe("server metrics", () => {
  it("counts requests per method in an object without a prototype, __proto__ included", () => {
    const metrics = new ServerMetrics(manualRegistry(0).reg, () => null);
    for (const method of ["__proto__", "toString", "__proto__", "lock_try"]) metrics.count(metrics.counterOf(method));
    metrics.error(-32601);
    const report = metrics.report();
    expect(Object.getPrototypeOf(report.requests)).toBeNull();
    expect(Object.entries(report.requests)).toEqual([
      ["__proto__", 2],
      ["lock_try", 1],
      ["toString", 1],
    ]);
    expect(Object.getPrototypeOf(report.errors)).toBeNull();
    expect(Object.entries(report.errors)).toEqual([["-32601", 1]]);
  });
});
