// npm run gen:protocol — write protocol/schemas/*.json and protocol/README.md.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { renderProtocolFiles } from "./protocol-files.js";

const files = renderProtocolFiles();
for (const stale of readdirSync("protocol/schemas", { withFileTypes: true })) {
  if (stale.isFile() && !files.has(`protocol/schemas/${stale.name}`)) rmSync(`protocol/schemas/${stale.name}`);
}
for (const [path, content] of files) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
}
console.log(`wrote ${files.size} files`);
