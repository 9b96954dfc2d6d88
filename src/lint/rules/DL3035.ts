import type { Rule } from "../rule.js";
import { ZYPPER_VALUED } from "./DL3034.js";
import { isSub, reportCommand } from "./_util.js";

export const rule: Rule = {
  id: "DL3035",
  level: "warning",
  source: "hadolint",
  description: "Do not use `zypper dist-upgrade`.",
  example: "RUN zypper dist-upgrade -y",
  check(ctx, report) {
    for (const rc of ctx.commands("zypper")) {
      if (isSub(rc.cmd, ["dist-upgrade", "dup"], ZYPPER_VALUED)) reportCommand(report, rc);
    }
  },
};
