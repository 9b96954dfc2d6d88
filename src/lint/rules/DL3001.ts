import type { Rule } from "../rule.js";
import { reportCommand } from "./_util.js";

const POINTLESS = ["ssh", "vim", "shutdown", "service", "ps", "free", "top", "kill", "mount", "ifconfig"];

export const rule: Rule = {
  id: "DL3001",
  level: "info",
  source: "hadolint",
  description:
    "For some bash commands it makes no sense running them in a Docker container like `ssh`, `vim`, `shutdown`, `service`, `ps`, `free`, `top`, `kill`, `mount`, `ifconfig`",
  example: "RUN service nginx start",
  check(ctx, report) {
    for (const rc of ctx.commands(...POINTLESS)) reportCommand(report, rc);
  },
};
