import { ruleCases } from "../helpers.js";

ruleCases("MultipleInstructionsDisallowed", {
  triggers: [
    { df: "FROM debian:12\nCMD a\nCMD b\n", lines: [2] },
    { df: "FROM debian:12\nENTRYPOINT a\nENTRYPOINT b\nHEALTHCHECK NONE\nHEALTHCHECK NONE\n", lines: [2, 4] },
  ],
  passes: ["FROM debian:12\nCMD a\n", "FROM a:1\nCMD a\nFROM b:1\nCMD b\n"],
});
