import type { Rule } from "../rule.js";
import type { Stage } from "../model.js";
import { argWords } from "../source.js";
import { isAbsolutePath } from "./_util.js";

export const rule: Rule = {
  id: "WorkdirRelativePath",
  level: "warning",
  source: "buildkit",
  description:
    "Relative workdir without an absolute workdir declared within the build can have unexpected results if the base image changes",
  example: "FROM debian:12 then WORKDIR app",
  twins: ["DL3000"],
  check(ctx, report) {
    const hasAbs = new Map<Stage, boolean>();
    for (const st of ctx.stages) {
      let abs = st.base ? (hasAbs.get(st.base) ?? false) : false;
      for (const ins of st.instructions) {
        if (ins.keyword !== "WORKDIR") continue;
        const dir = argWords(ins, ctx.src.escape).join(" ");
        if (isAbsolutePath(dir)) abs = true;
        else if (!abs)
          report({
            ins,
            message: `Relative workdir "${dir}" can have unexpected results if the base image changes`,
          });
      }
      hasAbs.set(st, abs);
    }
  },
};
