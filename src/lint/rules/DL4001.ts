import type { Rule } from "../rule.js";

export const rule: Rule = {
  id: "DL4001",
  level: "warning",
  source: "hadolint",
  description: "Either use Wget or Curl but not both",
  example: "RUN wget -q https://a && curl -fsS https://b",
  note: "Checked per stage.",
  check(ctx, report) {
    for (const st of ctx.stages) {
      const seen = new Set<string>();
      let done = false;
      for (const ins of st.instructions) {
        const run = ctx.runOf(ins);
        if (!run || done) continue;
        for (const rc of run.commands) {
          const n = rc.cmd.name.slice(rc.cmd.name.lastIndexOf("/") + 1);
          if (n !== "wget" && n !== "curl") continue;
          seen.add(n);
          if (seen.size === 2) {
            const p = rc.part.at(rc.cmd.start);
            report({ ins: run.owner, line: p.line, column: p.column });
            done = true;
            break;
          }
        }
      }
    }
  },
};
