import type { Rule } from "../rule.js";
import { reportSecretNames } from "./DL3064.js";

export const rule: Rule = {
  id: "SecretsUsedInArgOrEnv",
  level: "warning",
  source: "buildkit",
  description: "Sensitive data should not be used in the ARG or ENV commands",
  example: "ENV DB_PASSWORD=hunter2",
  twins: ["DL3064"],
  check: reportSecretNames,
};
