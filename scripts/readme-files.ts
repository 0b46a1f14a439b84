// Renders the generated blocks of README.md from src/cli/flags.ts: the command
// line synopsis and the flag table, each between `<!-- gen:readme NAME -->`
// and `<!-- /gen:readme NAME -->`. Pure: gen-readme.ts writes the result
// and test/readme-drift.test.ts fails when the committed README differs.
import { renderFlagTable, renderSynopsis } from "../src/cli/usage.js";

export const README_BLOCKS: Record<string, () => string> = {
  synopsis: () => `\`\`\`\n${renderSynopsis()}\n\`\`\``,
  flags: renderFlagTable,
};

/** `readme` with every generated block rendered afresh; throws when a block's markers are missing. */
export function renderReadme(readme: string): string {
  let out = readme;
  for (const [name, render] of Object.entries(README_BLOCKS)) {
    const block = new RegExp(`(<!-- gen:readme ${name} -->\\n)[\\s\\S]*?(<!-- /gen:readme ${name} -->)`);
    if (!block.test(out))
      throw new Error(`README.md has no <!-- gen:readme ${name} --> ... <!-- /gen:readme ${name} --> block`);
    out = out.replace(block, (_whole, open: string, close: string) => `${open}${render()}\n${close}`);
  }
  return out;
}
