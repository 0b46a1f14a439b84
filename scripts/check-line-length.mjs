// npm run lint: no line of the project's code (.ts, .mjs) is longer than
// 120 characters. Biome formats to that width but leaves long strings and
// comments alone, so this catches what the formatter cannot.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

const MAX = 120;
const files = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard", "*.ts", "*.mjs"], {
  encoding: "utf8",
})
  .split("\n")
  .filter((file) => file !== "" && !file.startsWith("examples/"));
const long = [];
for (const file of files) {
  readFileSync(file, "utf8")
    .split("\n")
    .forEach((line, index) => {
      if (line.length > MAX) long.push(`${file}:${index + 1}: ${line.length} characters`);
    });
}
if (long.length > 0) {
  process.stderr.write(`${long.join("\n")}\n${long.length} line(s) over ${MAX} characters\n`);
  process.exit(1);
}
