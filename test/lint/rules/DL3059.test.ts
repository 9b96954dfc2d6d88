import { ruleCases } from "../helpers.js";

ruleCases("DL3059", {
  triggers: [
    { df: "FROM debian:12\nRUN a\nRUN b\n", lines: [3] },
    "FROM debian:12\nRUN a\n# comment\nRUN b\n",
    "FROM debian:12\nRUN --mount=type=cache,target=/x a\nRUN --mount=type=cache,target=/x b\n",
  ],
  passes: [
    "FROM debian:12\nRUN a\nENV X=1\nRUN b\n",
    "FROM debian:12\nRUN a\nRUN --mount=type=cache,target=/x b\n",
    "FROM debian:12\nRUN a && b\n",
  ],
});
