// Event numbers with --state (README, Durable state: "Event numbers are
// kept"): state.json keeps the number of the last event beside its
// snapshot and the replay makes the journal's events again under their
// numbers, so an event_seq names one event across restarts and compactions.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { RegistryEvent } from "../../src/core/events.js";
import { readStateDir } from "../../src/storage/state-files.js";
import { openState } from "../support/durable.js";
import { tempDir } from "../support/temp-dir.js";

const fresh = () => tempDir("harn-events-");
const NEVER = 1 << 30;

describe("event numbers with --state", () => {
  it(
    "an event_seq names one event for the life of the directory, " +
      "across restarts and compactions, and numbering continues after the last one",
    async () => {
      const dir = fresh();
      let now = 1_000;
      const options = { now: () => now };
      const seen = new Map<number, RegistryEvent>();
      const note = (events: RegistryEvent[]) => {
        for (const event of events) {
          if (seen.has(event.event_seq)) expect(event, `event ${event.event_seq}`).toEqual(seen.get(event.event_seq));
          seen.set(event.event_seq, event);
        }
      };

      const first = await openState(dir, options, NEVER);
      first.store.register("a");
      first.store.tryLock(1, "src/a.rs");
      first.store.acquire({ agentId: 2, paths: ["src/a.rs"], waitMs: 60_000 }, () => {});
      first.store.releaseLock(1, "src/a.rs");
      const firstEvents = first.store.events.since(0);
      expect(firstEvents.map((event) => event.event_seq)).toEqual([1, 2, 3, 4, 5]);
      note(firstEvents);
      await first.close();

      now = 2_000;
      const second = await openState(dir, options, NEVER);
      expect(second.store.events.oldestSeq).toBe(1);
      expect(second.store.events.since(0).slice(0, firstEvents.length)).toEqual(firstEvents);
      note(second.store.events.since(0));
      const latest = second.store.events.latestSeq;
      second.store.tryLock(3, "docs");
      expect(second.store.events.since(latest).map((event) => [event.event_seq, event.type])).toEqual([
        [latest + 1, "agent/registered"],
        [latest + 2, "lock/granted"],
      ]);
      note(second.store.events.since(0));
      await second.close();

      // Compact (the open's own entries pass 1 byte), then, in another run, add events after the snapshot.
      now = 3_000;
      const compacting = await openState(dir, options, 1);
      await compacting.journal.flushed();
      note(compacting.store.events.since(0));
      await compacting.close();
      const saved = readStateDir(dir).saved;
      expect(saved?.generation).toBeGreaterThan(0);
      const kept = saved?.lastEventSeq as number;
      expect(kept).toBe(compacting.store.events.latestSeq);
      const adding = await openState(dir, options, NEVER);
      adding.store.releaseAll(3);
      note(adding.store.events.since(0));
      const before = adding.store.events.latestSeq;
      expect(before).toBeGreaterThan(kept);
      await adding.close();

      now = 4_000;
      const third = await openState(dir, options, NEVER);
      expect(third.store.events.oldestSeq).toBe(kept + 1);
      const replayed = third.store.events.since(0);
      expect(replayed[0]?.event_seq).toBe(kept + 1);
      expect(replayed.filter((event) => event.event_seq <= before)).toEqual(adding.store.events.since(kept));
      note(replayed);
      const last = third.store.events.latestSeq;
      expect(last).toBeGreaterThanOrEqual(before);
      third.store.heartbeat(9);
      expect(third.store.events.since(last)).toMatchObject([
        { event_seq: last + 1, type: "agent/registered", agent_id: 9 },
      ]);
      note(third.store.events.since(0));
      await third.close();
      expect([...seen.keys()]).toEqual(Array.from({ length: seen.size }, (_, i) => i + 1));
    },
  );

  it(
    "After a restart events_since returns the events since the last compaction " +
      "(oldest_seq says where they start; older ones are gone)",
    async () => {
      const dir = fresh();
      const options = { now: () => 1_000 };
      const first = await openState(dir, options, NEVER);
      first.store.tryLock(1, "a");
      first.store.tryLock(1, "b");
      await first.close();
      const compacting = await openState(dir, options, 1);
      await compacting.journal.flushed();
      await compacting.close();
      const kept = readStateDir(dir).saved?.lastEventSeq as number;
      expect(kept).toBe(3);
      const adding = await openState(dir, options, NEVER);
      adding.store.tryLock(2, "c");
      await adding.close();
      const last = await openState(dir, options, NEVER);
      expect(last.store.events.oldestSeq).toBe(kept + 1);
      expect(last.store.events.since(0)).toEqual(adding.store.events.since(kept));
      expect(last.store.events.since(0).map((event) => event.event_seq)).toEqual([4, 5]);
      await last.close();
    },
  );

  it(
    "opens a state.json written before the event counter was kept (no lastEventSeq): " +
      "its journal's events are numbered from 1, as they were",
    async () => {
      const dir = fresh();
      const options = { now: () => 1_000 };
      const first = await openState(dir, options, NEVER);
      first.store.tryLock(1, "a");
      const events = first.store.events.since(0);
      await first.close();
      const path = join(dir, "state.json");
      const { lastEventSeq, ...older } = JSON.parse(readFileSync(path, "utf8"));
      expect(lastEventSeq).toBe(0);
      writeFileSync(path, JSON.stringify(older));
      const second = await openState(dir, options, NEVER);
      expect(second.store.events.since(0).slice(0, events.length)).toEqual(events);
      await second.close();
    },
  );

  it("refuses a state.json whose lastEventSeq is not an event_seq, leaving it as it is", async () => {
    const dir = fresh();
    await (await openState(dir, { now: () => 1_000 }, NEVER)).close();
    const path = join(dir, "state.json");
    const text = JSON.stringify({ ...JSON.parse(readFileSync(path, "utf8")), lastEventSeq: -1 });
    writeFileSync(path, text);
    await expect(openState(dir, { now: () => 1_000 })).rejects.toThrow(`${path}: lastEventSeq is not an event_seq`);
    expect(readFileSync(path, "utf8")).toBe(text);
  });
});
