import { ruleCases } from "../helpers.js";

ruleCases("ConsistentInstructionCasing", {
  triggers: [
    { df: "FROM debian:12\nrun echo hi\nRUN x\n", lines: [2] },
    "from debian:12\nrun a\nCOPY a b\n",
    "FROM debian:12\nRun x\n",
  ],
  passes: ["FROM debian:12\nRUN a\nCOPY a b\n", "from debian:12\nrun a\n"],
});
