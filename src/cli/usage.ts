// Usage texts from the flag table (flags.ts): every --help, and the README's
// synopsis and flag table (scripts/readme-files.ts puts them in README.md).
import { COMMANDS, type CommandName, FLAGS, type FlagName, type FlagSpec, MODES, commandOf, flagsOf } from "./flags.js";

const WIDTH = 79;
const LABEL_WIDTH = 29;
const PROGRAM = "harn-registry";

/** `--flag`, `--flag=ARG` or `--flag=a|b|c`. */
export function flagLabel(spec: FlagSpec): string {
  if (spec.kind === "boolean") return spec.flag;
  return `${spec.flag}=${spec.kind === "enum" ? (spec.values ?? []).join("|") : (spec.arg ?? "VALUE")}`;
}

/** What happens without the flag: its default value or the words for it. */
function defaultOf(spec: FlagSpec): string | undefined {
  return spec.default === undefined ? spec.without : String(spec.default);
}

/** The units of a command's synopsis, none of which is broken across lines. */
function synopsisTokens(name: CommandName, compact: boolean): string[] {
  const command = commandOf(name);
  const rows = flagsOf(name).filter((spec) => spec.meta !== true);
  const oneOf: readonly string[] = command.oneOf?.flags ?? [];
  const tokens: string[] = command.word === undefined ? [] : [command.word];
  if (command.oneOf !== undefined) {
    const choices = oneOf.map((flag) => {
      const spec = rows.find((row) => row.flag === flag) as FlagSpec;
      const companions = rows.filter((row) => row.with === flag).map((row) => `[${flagLabel(row)}]`);
      return [flagLabel(spec), ...companions];
    });
    const [open, close] = !command.oneOf.required ? ["[", "]"] : choices.length > 1 ? ["(", ")"] : ["", ""];
    choices.forEach((choice, index) => {
      const words = [...choice];
      words[0] = `${index === 0 ? open : "| "}${words[0]}`;
      words[words.length - 1] = `${words.at(-1)}${index === choices.length - 1 ? close : ""}`;
      tokens.push(...words);
    });
  }
  const rest = rows.filter((spec) => !oneOf.includes(spec.flag) && spec.with === undefined);
  if (compact) tokens.push("[options]");
  else tokens.push(...rest.map((spec) => `[${flagLabel(spec)}]`));
  return tokens;
}

/** One command's synopsis, wrapped under its first word. */
function synopsis(name: CommandName, compact: boolean, prefix = ""): string[] {
  const head = `${prefix}${PROGRAM}`;
  const indent = " ".repeat(head.length + 1);
  const lines: string[] = [];
  let line = head;
  for (const token of synopsisTokens(name, compact)) {
    if (line.length + 1 + token.length > WIDTH && line.trim().length > 0 && line !== head) {
      lines.push(line);
      line = indent + token;
    } else line = `${line} ${token}`;
  }
  lines.push(line);
  return lines;
}

const NAMES = Object.keys(COMMANDS) as CommandName[];

/** Every command's synopsis, in full (the README's). */
export function renderSynopsis(): string {
  return NAMES.flatMap((name) => synopsis(name, false)).join("\n");
}

/** Words wrapped to WIDTH, every line after the first indented by `indent`. */
function wrap(text: string, firstWidth: number, indent: number): string[] {
  const lines: string[] = [];
  let line = "";
  let width = firstWidth;
  for (const word of text.split(/\s+/)) {
    if (line.length > 0 && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
      width = WIDTH - indent;
    } else line = line.length === 0 ? word : `${line} ${word}`;
  }
  lines.push(line);
  return lines;
}

/** `stdio only: ` or `socket only: ` for a server flag of one mode that is not how the mode is chosen. */
function modeNote(name: CommandName, spec: FlagSpec): string {
  const { modes, oneOf } = commandOf(name);
  if (
    modes.length < 2 ||
    oneOf?.flags.includes(spec.flag as FlagName) === true ||
    modes.every((mode) => spec.applies.includes(mode))
  )
    return "";
  return `${spec.applies.filter((mode) => modes.includes(mode)).join(", ")} only: `;
}

/** `harn-registry [COMMAND] --help`. */
export function renderHelp(name: CommandName): string {
  const usage = (name === "serve" ? NAMES : [name]).flatMap((each, index) =>
    synopsis(each, each === "serve", index === 0 ? "Usage: " : "       "),
  );
  const about = wrap(COMMANDS[name].about, WIDTH, 0);
  const options = flagsOf(name).flatMap((spec) => {
    const label = `  ${flagLabel(spec)}`;
    const fallback = defaultOf(spec);
    const text = `${modeNote(name, spec)}${spec.help}${fallback === undefined ? "" : ` [${fallback}]`}`;
    const indent = " ".repeat(LABEL_WIDTH + 2);
    if (label.length > LABEL_WIDTH)
      return [label, ...wrap(text, WIDTH - indent.length, indent.length).map((line) => indent + line)];
    return wrap(text, WIDTH - indent.length, indent.length).map(
      (line, index) => (index === 0 ? label.padEnd(LABEL_WIDTH + 2) : indent) + line,
    );
  });
  return [...usage, "", ...about, "", "Options (defaults in brackets):", ...options].join("\n");
}

const cell = (text: string) => text.replaceAll("|", "\\|");

/** The README's flag table: every row of flags.ts, in order. */
export function renderFlagTable(): string {
  const rows = FLAGS.map((spec: FlagSpec) => {
    const applies = MODES.every((mode) => spec.applies.includes(mode)) ? "all" : spec.applies.join(", ");
    const fallback = spec.default === undefined ? (spec.without ?? "—") : `\`${spec.default}\``;
    const meaning = spec.more === undefined ? spec.help : `${spec.help} ${spec.more}`;
    return `| \`${cell(flagLabel(spec))}\` | ${applies} | ${cell(fallback)} | ${cell(meaning)} |`;
  });
  return [
    "Where a flag applies: `stdio` and `socket` are the server's two modes (`socket` with `--listen`), the others " +
      "are subcommands; a flag given where it does not apply is refused.",
    "",
    "| flag | applies to | without it | meaning |",
    "|---|---|---|---|",
    ...rows,
  ].join("\n");
}
