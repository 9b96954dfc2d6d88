// BuildKit's build checks (the rules with BuildKit names), in the README's order. The build loads
// only these (src/lint/build-checks.ts); `RULES` (./index.ts) is the hadolint rules plus these.
import type { Rule } from "../rule.js";
import { rule as StageNameCasing } from "./StageNameCasing.js";
import { rule as FromAsCasing } from "./FromAsCasing.js";
import { rule as NoEmptyContinuation } from "./NoEmptyContinuation.js";
import { rule as ConsistentInstructionCasing } from "./ConsistentInstructionCasing.js";
import { rule as DuplicateStageName } from "./DuplicateStageName.js";
import { rule as ReservedStageName } from "./ReservedStageName.js";
import { rule as JSONArgsRecommended } from "./JSONArgsRecommended.js";
import { rule as MaintainerDeprecated } from "./MaintainerDeprecated.js";
import { rule as UndefinedArgInFrom } from "./UndefinedArgInFrom.js";
import { rule as WorkdirRelativePath } from "./WorkdirRelativePath.js";
import { rule as UndefinedVar } from "./UndefinedVar.js";
import { rule as MultipleInstructionsDisallowed } from "./MultipleInstructionsDisallowed.js";
import { rule as LegacyKeyValueFormat } from "./LegacyKeyValueFormat.js";
import { rule as RedundantTargetPlatform } from "./RedundantTargetPlatform.js";
import { rule as SecretsUsedInArgOrEnv } from "./SecretsUsedInArgOrEnv.js";
import { rule as InvalidDefaultArgInFrom } from "./InvalidDefaultArgInFrom.js";
import { rule as FromPlatformFlagConstDisallowed } from "./FromPlatformFlagConstDisallowed.js";
import { rule as CopyIgnoredFile } from "./CopyIgnoredFile.js";
import { rule as InvalidDefinitionDescription } from "./InvalidDefinitionDescription.js";
import { rule as ExposeProtoCasing } from "./ExposeProtoCasing.js";
import { rule as ExposeInvalidFormat } from "./ExposeInvalidFormat.js";
import { rule as InvalidBaseImagePlatform } from "./InvalidBaseImagePlatform.js";

export const BUILDKIT_RULES: Rule[] = [
  StageNameCasing,
  FromAsCasing,
  NoEmptyContinuation,
  ConsistentInstructionCasing,
  DuplicateStageName,
  ReservedStageName,
  JSONArgsRecommended,
  MaintainerDeprecated,
  UndefinedArgInFrom,
  WorkdirRelativePath,
  UndefinedVar,
  MultipleInstructionsDisallowed,
  LegacyKeyValueFormat,
  RedundantTargetPlatform,
  SecretsUsedInArgOrEnv,
  InvalidDefaultArgInFrom,
  FromPlatformFlagConstDisallowed,
  CopyIgnoredFile,
  InvalidDefinitionDescription,
  ExposeProtoCasing,
  ExposeInvalidFormat,
  InvalidBaseImagePlatform,
];
