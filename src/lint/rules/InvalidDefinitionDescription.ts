import type { Rule } from "../rule.js";
import { argPairs } from "../model.js";

const PRAGMA = /^(hadolint\s|check\s*=|syntax\s*=|escape\s*=)/i;

export const rule: Rule = {
  id: "InvalidDefinitionDescription",
  level: "warning",
  source: "buildkit",
  experimental: true,
  description:
    "Comment for build stage or argument should follow the format: `# <arg/stage name> <description>`",
  example: "# the version + ARG VERSION=1 (with # check=experimental=InvalidDefinitionDescription)",
  note: "BuildKit experimental: runs only with `# check=experimental=InvalidDefinitionDescription` (or all).",
  check(ctx, report) {
    for (const ins of ctx.instructions) {
      let name: string | undefined;
      if (ins.keyword === "FROM") name = ctx.stageOf(ins)?.name;
      else if (ins.keyword === "ARG") {
        const pairs = argPairs(ins, ctx.src.escape);
        if (pairs.length === 1) name = pairs[0]![0];
      }
      if (!name || ins.comments.length === 0) continue;
      const c = ins.comments[ins.comments.length - 1]!;
      if (c.text === "" || PRAGMA.test(c.text)) continue;
      const first = c.text.split(/\s+/)[0];
      if (first !== name) {
        report({
          ins,
          message: `Comment for ${ins.keyword} should follow the format: \`# ${name} <description>\``,
        });
      }
    }
  },
};
