import { ruleCases } from "../helpers.js";

ruleCases("DL3012", {
  triggers: [
    { df: "FROM debian:12\nHEALTHCHECK CMD a\nHEALTHCHECK CMD b\n", lines: [3] },
    "FROM debian:12\nHEALTHCHECK NONE\nRUN x\nHEALTHCHECK CMD b\n",
  ],
  passes: [
    "FROM debian:12\nHEALTHCHECK CMD a\n",
    "FROM a:1\nHEALTHCHECK CMD a\nFROM b:1\nHEALTHCHECK CMD b\n",
  ],
});
