// The journal names each change by its member, except a member renamed
// after the entry format was frozen, which keeps its old name on disk (one
// table in src/storage/store-ops.ts): journals written before the rename
// must still replay (test/storage/journal-contract.test.ts replays one).
import { describe, expect, it } from "vitest";
import { JOURNALED_OPS, journalName, opOfJournalName } from "../../src/storage/store-ops.js";

describe("journal names", () => {
  it("keep configure on disk for setProcessOptions, and every other change under its own name", () => {
    expect(journalName("setProcessOptions")).toBe("configure");
    expect(opOfJournalName("configure")).toBe("setProcessOptions");
    expect(opOfJournalName("setProcessOptions")).toBeUndefined();
    for (const op of JOURNALED_OPS) expect(opOfJournalName(journalName(op))).toBe(op);
    expect(JOURNALED_OPS.filter((op) => journalName(op) !== op)).toEqual(["setProcessOptions"]);
  });
});
