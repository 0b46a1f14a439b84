// Allocation per request on a server's side: the server child runs with
// bench/preload/alloc-probe.mjs, which counts what its V8 heap allocates
// between two marks sent on fd 3 (how, and what it leaves out: its header).
// Such a child is for this measurement only; its forced collections at each
// mark would disturb any timing.
import type { Duplex } from "node:stream";
import { type ChildWire, spawnWire } from "./pipeline.js";

const PRELOAD = (name: string) => new URL(`../../bench/preload/${name}.mjs`, import.meta.url).href;

/** A server child with the allocation probe loaded, and its probe's channel. */
export interface ProbedWire extends ChildWire {
  channel: Duplex;
}

/**
 * Spawn `node args…` with the probe preloaded; with `pad`, also the probe's check (bench/preload/alloc-pad.mjs: every
 * JSON.parse allocates 1,024 bytes more).
 */
export function spawnProbed(args: string[], pad = false): ProbedWire {
  const preloads = ["alloc-probe", ...(pad ? ["alloc-pad"] : [])].flatMap((name) => ["--import", PRELOAD(name)]);
  const wire = spawnWire(["--expose-gc", ...preloads, ...args], { fd3: true });
  return { ...wire, channel: wire.child.stdio[3] as Duplex };
}

/** Send one command line to the probe; its one-line answer. */
function ask(channel: Duplex, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    const onClose = () => reject(new Error("the allocation probe closed its channel"));
    const onData = (chunk: Buffer) => {
      text += chunk.toString("latin1");
      if (!text.endsWith("\n")) return;
      channel.off("data", onData).off("close", onClose);
      resolve(text.trimEnd());
    };
    channel.on("data", onData).once("close", onClose);
    channel.write(`${command}\n`);
  });
}

/** Bytes the server's V8 heap allocated while `run` ran. */
export async function heapBytesDuring(wire: ProbedWire, run: () => Promise<unknown>): Promise<number> {
  const begun = await ask(wire.channel, "begin");
  if (begun !== "ok") throw new Error(`allocation probe: ${begun}`);
  await run();
  const bytes = Number(await ask(wire.channel, "end"));
  if (!Number.isFinite(bytes)) throw new Error("allocation probe: no byte count");
  return bytes;
}
