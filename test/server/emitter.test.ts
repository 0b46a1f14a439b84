// The server's Emitter (src/server/emitter.ts) keeps vscode-jsonrpc's
// Emitter's contract: listeners run in order, with their `this`; one that
// throws is logged and the others still run; a disposed listener, or every
// listener after dispose(), is not called.
import { describe, expect, it, vi } from "vitest";
import { Emitter } from "../../src/server/emitter.js";

describe("Emitter", () => {
  it("calls every listener in order, with its this, and goes on past one that throws", () => {
    const emitter = new Emitter<number>();
    const calls: string[] = [];
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const self = { name: "self" };
    emitter.event(function (this: typeof self, value) {
      calls.push(`${this.name} ${value}`);
    }, self);
    emitter.event(() => {
      throw new Error("boom");
    });
    emitter.event((value) => calls.push(`last ${value}`));
    emitter.fire(1);
    expect(calls).toEqual(["self 1", "last 1"]);
    expect(logged).toHaveBeenCalledTimes(1);
    logged.mockRestore();
  });

  it("stops calling a listener once disposed, and every listener after dispose()", () => {
    const emitter = new Emitter<void>();
    const calls: string[] = [];
    const disposables: { dispose(): void }[] = [];
    const first = emitter.event(() => calls.push("first"));
    emitter.event(() => calls.push("second"), undefined, disposables);
    emitter.fire();
    first.dispose();
    emitter.fire();
    expect(calls).toEqual(["first", "second", "second"]);
    expect(disposables).toHaveLength(1);
    emitter.dispose();
    emitter.fire();
    expect(calls).toHaveLength(3);
  });
});
