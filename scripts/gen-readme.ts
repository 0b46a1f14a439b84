// npm run gen:readme — rewrite README.md's generated blocks (the command line synopsis and flag table) from
// src/cli/flags.ts.
import { readFileSync, writeFileSync } from "node:fs";
import { renderReadme } from "./readme-files.js";

const before = readFileSync("README.md", "utf8");
const after = renderReadme(before);
if (after !== before) writeFileSync("README.md", after);
console.log(after === before ? "README.md is up to date" : "wrote README.md");
