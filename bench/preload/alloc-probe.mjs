// Preloaded into a server child by bench/alloc.ts only (`node --expose-gc --import`), never into a timed one:
// counts the bytes the V8 heap allocates between a "begin" and an "end" line read on fd 3, and answers "end" with
// that count ("begin" with "ok"). Each mark forces a full collection; between the two, v8.GCProfiler records the
// heap's used size before and after every collection, so the allocation is the sum of the growth between
// collections, from the first mark's collection to the second's: exact whenever collections happen. What Buffer and
// ArrayBuffer contents take outside the V8 heap is not counted. The channel is unref'd: it keeps nobody alive.
import { Socket } from "node:net";
import { GCProfiler } from "node:v8";

const { gc } = globalThis;
if (typeof gc !== "function") throw new Error("alloc-probe needs node --expose-gc");
const channel = new Socket({ fd: 3, readable: true, writable: true }).unref();
let profiler;
let buffered = "";

/** Bytes allocated between the first and the last collection `profiler` saw. */
function allocated({ statistics }) {
  let bytes = 0;
  for (let i = 1; i < statistics.length; i++)
    bytes += statistics[i].beforeGC.heapStatistics.usedHeapSize - statistics[i - 1].afterGC.heapStatistics.usedHeapSize;
  return bytes;
}

function answer(command) {
  if (command === "begin") {
    profiler = new GCProfiler();
    profiler.start();
    gc();
    return "ok";
  }
  if (command === "end" && profiler !== undefined) {
    gc();
    const bytes = allocated(profiler.stop());
    profiler = undefined;
    return String(bytes);
  }
  return `unknown command ${command}`;
}

channel.setEncoding("latin1").on("data", (text) => {
  buffered += text;
  for (let newline = buffered.indexOf("\n"); newline !== -1; newline = buffered.indexOf("\n")) {
    channel.write(`${answer(buffered.slice(0, newline))}\n`);
    buffered = buffered.slice(newline + 1);
  }
});
