import { ruleCases } from "../helpers.js";

ruleCases("InvalidDefinitionDescription", {
  triggers: [
    "# check=experimental=InvalidDefinitionDescription\n# the version\nARG VERSION=1\nFROM debian:12\n",
    "# check=experimental=InvalidDefinitionDescription\n# a stage for compiling\nFROM debian:12 AS base\n",
  ],
  passes: [
    "# check=experimental=InvalidDefinitionDescription\n# VERSION is the version\nARG VERSION=1\nFROM debian:12\n",
    "# check=experimental=InvalidDefinitionDescription\n# base is a stage for compiling\nFROM debian:12 AS base\n",
    "# the version\nARG VERSION=1\nFROM debian:12\n",
    "# check=experimental=InvalidDefinitionDescription\n# the version\n\nARG VERSION=1\nFROM debian:12\n",
    "# check=experimental=InvalidDefinitionDescription\n# hadolint ignore=DL3006\nFROM debian AS x\n",
  ],
});
