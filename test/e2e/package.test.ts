// The package as a user gets it. A fresh `git clone` of this repository at
// HEAD (so it has no dist/: the package test packs what is committed, as CI
// does on a clean clone of main; uncommitted changes are not in it) is
// packed with `npm pack`, whose `prepare` script must build dist/; the
// tarball is installed into an empty project, where the bin must run (from
// node_modules/.bin and by npx), import() must give the client, and
// require() must fail saying the package is ESM-only. Then
// `npm install git+file://<clone>` must do the same from git: npm checks the
// commit out, installs its devDependencies there and runs `prepare`.
//
// Nothing here uses the network: every npm command runs with --offline on the
// npm cache that this project's own `npm ci` filled (CI runs it first).
// - The clone gets its devDependencies (esbuild, typescript) by
//   `npm ci --offline --ignore-scripts` from its package-lock.json: about 4 s,
//   and it checks that a clone builds with what its lockfile pins. Its
//   scripts are skipped so that the build is the one `npm pack` runs
//   (`prepare`); esbuild needs no postinstall (it finds its binary in
//   @esbuild/<platform>).
// - `npm install ./harn-registry-X.tgz` into a project with no lockfile
//   cannot run offline: to resolve the tarball's dependencies npm fetches
//   their registry metadata (packuments), which `npm ci` never caches (it
//   installs from the lockfile's integrity hashes). So each empty project
//   gets a package-lock.json: the package itself (tarball or git URL) plus
//   its dependencies' entries copied from this project's lockfile, which
//   pins the same versions; `npm ci --offline` then installs from the cache.
//
// npm runs with none of the npm_* variables of an `npm test` that may run
// this file and without node_modules/.bin directories on PATH, so that
// nothing from this checkout (its config, its esbuild or tsc) stands in for
// what the clone must have itself.
import { execFile, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { builtinModules, createRequire } from "node:module";
import { tmpdir } from "node:os";
import { delimiter, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

const ENV: NodeJS.ProcessEnv = {
  ...Object.fromEntries(
    Object.entries(process.env).filter(
      ([key]) => !/^npm_/i.test(key) || /^npm_config_(cache|userconfig|globalconfig)$/i.test(key),
    ),
  ),
  PATH: (process.env.PATH ?? "")
    .split(delimiter)
    .filter((dir) => !/node_modules[\\/]\.bin$/.test(dir))
    .join(delimiter),
  npm_config_offline: "true",
  npm_config_audit: "false",
  npm_config_fund: "false",
  npm_config_update_notifier: "false",
};

/** Run a command to its end; a failure says which, with its output. */
async function run(cwd: string, command: string, args: string[], timeout = 60_000): Promise<string> {
  try {
    return (await promisify(execFile)(command, args, { cwd, env: ENV, encoding: "utf8", timeout, maxBuffer: 64 << 20 }))
      .stdout;
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(
      `${command} ${args.join(" ")} (in ${cwd}) failed: ${(error as Error).message}\n${stdout ?? ""}\n${stderr ?? ""}`,
    );
  }
}

/** Run a short command synchronously: its status and output. */
function runSync(cwd: string, command: string, args: string[]) {
  const result = spawnSync(command, args, { cwd, env: ENV, encoding: "utf8", timeout: 20_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

interface Manifest {
  name: string;
  version: string;
  license?: string;
  bin?: Record<string, string>;
  engines?: Record<string, string>;
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
}
type LockEntry = Record<string, unknown> & {
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
};

/**
 * An empty project that depends on `spec` only, with the lockfile that lets `npm ci --offline` install it (see the
 * top).
 */
function emptyProject(dir: string, spec: string, manifest: Manifest, projectLock: Record<string, LockEntry>): string {
  mkdirSync(dir);
  const { name, version, license, bin, engines, dependencies = {} } = manifest;
  const packages: Record<string, LockEntry> = {
    "": { name: "consumer", dependencies: { [name]: spec } },
    [`node_modules/${name}`]: { version, resolved: spec, license, dependencies, bin, engines },
  };
  // A dependency's optionalDependencies (pg's pg-cloudflare) are in the lockfile too, as npm ci wants them.
  const queue = Object.keys(dependencies);
  const optional = new Set<string>();
  for (let dep = queue.shift(); dep !== undefined; dep = queue.shift()) {
    const key = `node_modules/${dep}`;
    if (key in packages) continue;
    const entry = projectLock[key];
    if (entry === undefined && optional.has(dep)) continue;
    if (entry === undefined) throw new Error(`${key} is not in package-lock.json`);
    const { dev: _dev, devOptional: _devOptional, peer: _peer, ...kept } = entry;
    packages[key] = kept;
    queue.push(...Object.keys(entry.dependencies ?? {}));
    for (const name of Object.keys(entry.optionalDependencies ?? {})) {
      if (!(name in (entry.dependencies ?? {}))) optional.add(name);
      queue.push(name);
    }
  }
  writeFileSync(
    join(dir, "package.json"),
    `${JSON.stringify({ name: "consumer", private: true, dependencies: { [name]: spec } }, null, 2)}\n`,
  );
  writeFileSync(
    join(dir, "package-lock.json"),
    `${JSON.stringify({ name: "consumer", lockfileVersion: 3, requires: true, packages }, null, 2)}\n`,
  );
  return dir;
}

/**
 * Every module `entry` imports, statically or on demand, followed through the
 * relative imports of each; and what they import from outside (packages).
 */
function moduleGraph(entry: string): { found: string[]; missing: string[]; external: string[] } {
  const found: string[] = [];
  const missing: string[] = [];
  const external = new Set<string>();
  const queue = [entry];
  const seen = new Set(queue);
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
    if (!existsSync(file)) {
      missing.push(file);
      continue;
    }
    found.push(file);
    for (const [, specifier] of readFileSync(file, "utf8").matchAll(
      /(?:\bfrom|\bimport\s*\(?|\brequire\s*\()\s*["']([^"'\s]+)["']/g,
    )) {
      if (!/^\.{1,2}\//.test(specifier as string)) {
        external.add(specifier as string);
        continue;
      }
      const target = resolve(dirname(file), specifier as string);
      if (!seen.has(target)) {
        seen.add(target);
        queue.push(target);
      }
    }
  }
  return { found, missing, external: [...external] };
}

// In the empty project: the client spawns the sidecar (the bin next to it in
// node_modules; its log goes to stderr) and registers an agent.
const CLIENT_SCRIPT = `import { spawnSidecar } from "harn-registry";
const sidecar = spawnSidecar({ stderr: "inherit" });
const id = await sidecar.client.request("agent_register", { name: "consumer" });
console.log(JSON.stringify({ id, exit: await sidecar.close() }));
`;

/** The checks every installed copy must pass: bins (from the build's code cache), import(), require(). */
function checkInstalled(project: string, version: string): void {
  const bin = join(project, "node_modules", ".bin", "harn-registry");
  const versionRun = runSync(project, bin, ["--version"]);
  expect(versionRun).toEqual({ status: 0, stdout: `${version}\n`, stderr: "" });
  // V8 flags in NODE_OPTIONS would make V8 refuse the cache (as it should).
  const { NODE_OPTIONS: _flags, ...plain } = ENV;
  const cached = spawnSync(bin, ["--version"], {
    cwd: project,
    env: { ...plain, HARN_REGISTRY_CODE_CACHE: "check" },
    encoding: "utf8",
  });
  expect({ status: cached.status, stderr: cached.stderr }).toEqual({
    status: 0,
    stderr: "harn-registry: code cache used\n",
  });
  const help = runSync(project, "npx", ["harn-registry", "--help"]);
  expect(help.status).toBe(0);
  expect(help.stdout).toMatch(/^Usage: harn-registry /);

  writeFileSync(join(project, "client.mjs"), CLIENT_SCRIPT);
  const client = runSync(project, process.execPath, ["client.mjs"]);
  expect({ status: client.status, stdout: client.stdout }, client.stderr).toEqual({
    status: 0,
    stdout: `${JSON.stringify({ id: 1, exit: 0 })}\n`,
  });

  // From CommonJS: import() works, require() fails saying why (not Node's
  // ERR_PACKAGE_PATH_NOT_EXPORTED, nor require(esm) on the Nodes that have it).
  writeFileSync(
    join(project, "import.cjs"),
    'import("harn-registry").then(({ spawnSidecar }) => console.log(typeof spawnSidecar));\n',
  );
  expect(runSync(project, process.execPath, ["import.cjs"])).toEqual({ status: 0, stdout: "function\n", stderr: "" });
  writeFileSync(join(project, "require.cjs"), 'require("harn-registry");\n');
  const required = runSync(project, process.execPath, ["require.cjs"]);
  expect(required.status).toBe(1);
  expect(required.stderr).toContain("Error: harn-registry is ESM-only: load it with import()");
  expect(required.stderr).toContain("not with require()");
}

let work = "";
let clone = "";
let commit = "";
let manifest: Manifest;
let projectLock: Record<string, LockEntry>;
let packed: { filename: string; files: { path: string; mode: number }[] };
let distBeforePack = true;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "harn-pack-"));
  clone = join(work, "clone");
  commit = (await run(ROOT, "git", ["rev-parse", "HEAD"])).trim();
  await run(work, "git", ["clone", "--quiet", "--no-checkout", ROOT, clone]);
  await run(clone, "git", ["checkout", "--quiet", "--detach", commit]);
  manifest = JSON.parse(readFileSync(join(clone, "package.json"), "utf8"));
  projectLock = JSON.parse(readFileSync(join(clone, "package-lock.json"), "utf8")).packages;
  await run(clone, "npm", ["ci", "--ignore-scripts"]);
  distBeforePack = existsSync(join(clone, "dist"));
  [packed] = JSON.parse(await run(clone, "npm", ["pack", "--json", "--pack-destination", work]));
}, 60_000);

afterAll(() => {
  if (work !== "") rmSync(work, { recursive: true, force: true });
});

describe("the package", () => {
  it("is built by npm pack from a fresh clone (prepare) and ships what it needs, no more", () => {
    expect(distBeforePack).toBe(false);
    const files = packed.files.map((file) => file.path);
    for (const file of [
      "bin/harn-registry",
      "bin/package.json",
      "dist/launch.cjs",
      "dist/harn-registry.cjs",
      "dist/harn-registry.cache",
      "dist/client.js",
      "dist/types/src/client/index.d.ts",
      "src/client/esm-only.cjs",
      "package.json",
      "README.md",
    ]) {
      expect(files).toContain(file);
    }
    expect(manifest.scripts).toMatchObject({ prepare: "npm run -s build" });
    expect(
      files.filter(
        (file) => /^(bench|test|scripts|examples|dist\/bench|dist\/scripts)\//.test(file) || file.endsWith(".map"),
      ),
    ).toEqual([]);
    expect(packed.files.find((file) => file.path === "bin/harn-registry")?.mode ?? 0).toBe(0o755);
  }, 10_000);

  it("installs from the tarball into an empty project: " +
    "the bins run, import() gives the client, require() says ESM-only", async () => {
    const project = emptyProject(
      join(work, "from-tarball"),
      `file:${join(work, packed.filename)}`,
      manifest,
      projectLock,
    );
    await run(project, "npm", ["ci"]);
    const installed = join(project, "node_modules", "harn-registry");

    // The bin loads its launcher, which runs the sidecar's bundle (one
    // script, with what --state, --listen, connect, status and demo need).
    const launcher = moduleGraph(join(installed, "bin", "harn-registry"));
    expect(launcher.found.map((file) => file.slice(installed.length))).toEqual([
      join("/bin", "harn-registry"),
      join("/dist", "launch.cjs"),
    ]);
    const sidecar = moduleGraph(join(installed, "dist", "harn-registry.cjs"));
    expect([...launcher.missing, ...sidecar.missing]).toEqual([]);
    // dist/ is bundled: at run time it loads Node's modules only, and PostgreSQL's client (a dependency, installed
    // with it) when --state names a database (README, Install).
    const client = moduleGraph(join(installed, "dist", "client.js"));
    expect(client.missing).toEqual([]);
    expect(
      [...launcher.external, ...sidecar.external, ...client.external].filter(
        (specifier) => !specifier.startsWith("node:") && !builtinModules.includes(specifier),
      ),
    ).toEqual(["pg"]);
    expect(createRequire(join(installed, "dist", "harn-registry.cjs")).resolve("pg")).toContain("node_modules");
    checkInstalled(project, manifest.version);
    const demo = runSync(project, join(project, "node_modules", ".bin", "harn-registry"), ["demo"]);
    expect(demo.stderr).toBe("");
    expect(demo.status).toBe(0);
    expect(demo.stdout).toContain("Done: ");
  }, 45_000);

  it("installs from git (npm checks the commit out, installs its devDependencies, runs prepare)", async () => {
    expect((await run(clone, "git", ["ls-files", "dist"])).trim()).toBe("");
    const project = emptyProject(join(work, "from-git"), `git+file://${clone}#${commit}`, manifest, projectLock);
    await run(project, "npm", ["ci"]);
    expect(existsSync(join(project, "node_modules", "harn-registry", "dist", "harn-registry.cjs"))).toBe(true);
    checkInstalled(project, manifest.version);
  }, 60_000);
});
