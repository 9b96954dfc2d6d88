import { ruleCases } from "../helpers.js";

ruleCases("DL1001", {
  triggers: [
    "FROM debian:12\n# hadolint ignore=DL3008\nRUN apt-get install -y x\n",
    { df: "# hadolint global ignore=DL3006\nFROM debian\n", lines: [1] },
    { df: "FROM debian:12\n# hadolint stage ignore=DL3002\nFROM debian:12\n", lines: [2] },
  ],
  passes: [
    "FROM debian:12\n# just a comment\nRUN true\n",
    "FROM debian:12\n# hadolint shell=bash\nRUN true\n",
  ],
});
