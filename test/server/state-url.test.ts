// A --state value names PostgreSQL state by its scheme, and its password never reaches a log line.
import { describe, expect, it } from "vitest";
import { hidePassword, isPostgresUrl } from "../../src/server/state-url.js";

describe("a PostgreSQL --state URL", () => {
  it("is told from a directory by its scheme", () => {
    for (const url of ["postgres://u@h/db", "postgresql://h", "POSTGRES://h/db"]) expect(isPostgresUrl(url)).toBe(true);
    for (const dir of [".harn/registry", "/var/postgres://x", "postgres:/x", "postgres"])
      expect(isPostgresUrl(dir)).toBe(false);
  });

  it("is logged with its password as ***, wherever the password is", () => {
    expect(hidePassword("postgres://user:s%40cret@db.example:5432/reg?sslmode=require")).toBe(
      "postgres://user:***@db.example:5432/reg?sslmode=require",
    );
    expect(hidePassword("postgresql://user:pw@[::1]:5432/reg")).toBe("postgresql://user:***@[::1]:5432/reg");
    expect(hidePassword("postgres://u:pa/ss@db/reg")).toBe("postgres://***@db/reg");
    expect(hidePassword("postgres:///reg?host=/tmp&password=secret&user=u")).toBe(
      "postgres:///reg?host=/tmp&password=***&user=u",
    );
    expect(hidePassword("postgres://user@db/reg")).toBe("postgres://user@db/reg");
  });
});

describe("hidePassword: every parameter that names a password, however its name is spelled", () => {
  it.each([
    "postgres://a:b@h/d?pass%77ord=S3cretQ",
    "postgres://h/d?%70assword=S3cretQ&x=1",
    "postgres://h/d?sslpassword=S3cretQ",
    "postgres://u:S3cretQ@h/d?password=S3cretQ",
  ])("%s", (url) => {
    expect(hidePassword(url)).not.toContain("S3cretQ");
  });
});
