import type { Rule } from "../rule.js";
import { splitWords } from "../source.js";
import { each } from "./_util.js";

export const rule: Rule = {
  id: "ExposeInvalidFormat",
  level: "warning",
  source: "buildkit",
  description:
    "IP address and host-port mapping should not be used in EXPOSE instruction. This will become an error in a future release",
  example: "EXPOSE 8080:80",
  check(ctx, report) {
    for (const ins of each(ctx, "EXPOSE")) {
      for (const w of splitWords(ins.args, ctx.src.escape)) {
        if (w.value.includes(":") && !w.value.includes("$")) {
          report({
            ins,
            message: `EXPOSE instruction should not define an IP address or host-port mapping, found '${w.value}'`,
          });
        }
      }
    }
  },
};
