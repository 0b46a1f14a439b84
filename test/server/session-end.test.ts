// How a session ends: nothing sent after its end (exit, a refused request,
// stop) runs or is answered, what came before is answered and kept.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { domainFailure } from "../../src/server/rpc-errors.js";
import { tempDir } from "../support/temp-dir.js";
import { frame, request } from "../support/wire-frames.js";
import { STORES, WireSession, settle } from "../support/wire-session.js";

const exit = '{"jsonrpc":"2.0","method":"exit"}';
const after = [request(3, "agent_register"), request(4, "lock_try", { agent_id: 1, path: "a" }), "garbage"];

describe.each(STORES)("%s store", (store) => {
  for (const framing of ["ndjson", "content-length"] as const) {
    describe(`the end of a session over ${framing}`, () => {
      it("runs and answers nothing after exit in the same chunk (exit without shutdown: code 1)", async () => {
        const wire = await WireSession.start({ store, framing });
        wire.sendRaw(frame(framing, request(1, "agent_register"), exit, ...after));
        expect(await wire.exited).toBe(1);
        expect(wire.messages(framing)).toEqual([{ jsonrpc: "2.0", id: 1, result: 1 }]);
        expect(wire.runtime.view.listAgents().map((a) => a.id)).toEqual([1]);
        expect(wire.runtime.view.listLocks()).toEqual([]);
      });

      it("runs and answers nothing after exit following shutdown (code 0), nor in later chunks", async () => {
        const wire = await WireSession.start({ store, framing });
        wire.sendRaw(frame(framing, request(1, "agent_register"), request(2, "shutdown"), exit));
        wire.sendRaw(frame(framing, ...after));
        expect(await wire.exited).toBe(0);
        await settle();
        expect(wire.messages(framing).map((m) => m.id)).toEqual([1, 2]);
        expect(wire.runtime.view.listAgents()).toHaveLength(1);
      });

      it("runs and answers nothing after a refused request (a socket's admit), which is answered", async () => {
        let admitted = 0;
        const wire = await WireSession.start({
          store,
          framing,
          admit: (method) => {
            admitted++;
            return domainFailure(method, "unauthorized", "not authenticated");
          },
        });
        wire.sendRaw(frame(framing, request(1, "agent_register"), ...after));
        expect(await wire.exited).toBe(0);
        expect(wire.messages(framing)).toMatchObject([{ id: 1, error: { code: 1009 } }]);
        expect(admitted).toBe(1);
        expect(wire.runtime.view.listAgents()).toEqual([]);
      });

      it("reads nothing more once stopped (SIGTERM), and answers what came before", async () => {
        const wire = await WireSession.start({ store, framing });
        wire.sendRaw(frame(framing, request(1, "agent_register")));
        await wire.waitFor(1, framing);
        wire.session.stop("SIGTERM");
        wire.sendRaw(frame(framing, ...after));
        expect(await wire.exited).toBe(0);
        await settle();
        expect(wire.messages(framing).map((m) => m.id)).toEqual([1]);
        expect(wire.runtime.view.listAgents()).toHaveLength(1);
      });
    });
  }

  describe("the end of the input", () => {
    const complete = request(2, "agent_register");
    for (const flag of ["auto", "ndjson"] as const) {
      it(`answers a last NDJSON line without its newline, then exits 0 (--framing=${flag})`, async () => {
        const wire = await WireSession.start({ store, framing: flag });
        wire.input.end(`${request(1, "current_seq")}\n${complete}`);
        expect(await wire.exited).toBe(0);
        expect(wire.messages("ndjson")).toEqual([
          { jsonrpc: "2.0", id: 1, result: 0 },
          { jsonrpc: "2.0", id: 2, result: 1 },
        ]);
        expect(wire.runtime.view.listAgents()).toHaveLength(1);
      });

      it(`answers an incomplete last NDJSON line with -32700 (--framing=${flag})`, async () => {
        const wire = await WireSession.start({ store, framing: flag });
        wire.input.end(`${request(1, "current_seq")}\n${complete.slice(0, -5)}`);
        expect(await wire.exited).toBe(0);
        expect(wire.messages("ndjson")).toMatchObject([
          { id: 1, result: 0 },
          { id: null, error: { code: -32700 } },
        ]);
        expect(wire.runtime.view.listAgents()).toEqual([]);
      });
    }

    it("answers a last line that could still have become a header (auto) with -32700", async () => {
      const wire = await WireSession.start({ store });
      wire.input.end("Content-Le");
      expect(await wire.exited).toBe(0);
      expect(wire.messages("ndjson")).toMatchObject([{ id: null, error: { code: -32700 } }]);
    });

    it("answers nothing for blanks only", async () => {
      const wire = await WireSession.start({ store });
      wire.input.end(" \r\n\n");
      expect(await wire.exited).toBe(0);
      expect(wire.stdout.length).toBe(0);
    });

    for (const flag of ["auto", "content-length"] as const) {
      const title = `answers a Content-Length message cut short in its body or header with -32700 (--framing=${flag})`;
      it(title, async () => {
        const whole = frame("content-length", complete);
        for (const cut of [whole.slice(0, -1), whole.slice(0, 17), whole.slice(0, whole.indexOf("\r\n\r\n") + 2)]) {
          const wire = await WireSession.start({ store, framing: flag });
          wire.input.end(`${frame("content-length", request(1, "current_seq"))}${cut}`);
          expect(await wire.exited).toBe(0);
          const [first, second] = wire.messages("content-length");
          expect(first).toEqual({ jsonrpc: "2.0", id: 1, result: 0 });
          expect(second).toMatchObject({ id: null, error: { code: -32700 } });
          expect(second.error.message).toMatch(
            /the input ended (after \d+ of the \d+ body bytes|inside a header block)/,
          );
          expect(wire.runtime.view.listAgents()).toEqual([]);
        }
      });
    }
  });
});

describe("the end of a session with --state", () => {
  it("journals what came before exit and nothing after it", async () => {
    const dir = tempDir("harn-end-");
    const wire = await WireSession.start({ framing: "ndjson", statePath: dir });
    wire.sendRaw(frame("ndjson", request(1, "agent_register"), exit, ...after));
    expect(await wire.exited).toBe(1);
    const ops = readFileSync(join(dir, "journal.0.ndjson"), "utf8").match(/"op":"\w+"/g);
    expect(ops?.filter((op) => op !== '"op":"configure"' && op !== '"op":"tick"')).toEqual(['"op":"register"']);
    expect(wire.messages("ndjson")).toEqual([{ jsonrpc: "2.0", id: 1, result: 1 }]);
  });
});
