import type { Rule } from "../rule.js";
import { PREDEFINED_ARGS } from "../model.js";

const REF =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9.-]*[a-zA-Z0-9])?(?::[0-9]+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$/;

export const rule: Rule = {
  id: "InvalidDefaultArgInFrom",
  level: "warning",
  source: "buildkit",
  description: "Default value for global ARG results in an empty or invalid base image name",
  example: "ARG TAG then FROM alpine:${TAG}",
  check(ctx, report) {
    const scope = new Map<string, string | undefined>();
    for (const [k, v] of ctx.globalArgs) scope.set(k, v ?? "");
    for (const a of PREDEFINED_ARGS)
      scope.set(
        a,
        a.includes("PLATFORM")
          ? "linux/amd64"
          : a.endsWith("OS")
            ? "linux"
            : a.endsWith("ARCH")
              ? "amd64"
              : "",
      );
    for (const st of ctx.stages) {
      if (!st.image.includes("$")) continue;
      const v = ctx.expand(st.image, scope);
      if (v === undefined) continue; // undeclared: UndefinedArgInFrom
      if (ctx.stageByName(v, st.index) || v.toLowerCase() === "scratch") continue;
      if (v === "" || !REF.test(v))
        report({
          ins: st.from,
          message: `Default value for ARG ${st.image} results in empty or invalid base image name`,
        });
    }
  },
};
