import { ruleCases } from "../helpers.js";

ruleCases("DL3009", {
  triggers: [
    "FROM debian:12\nRUN apt-get update && apt-get install -y curl=1\n",
    { df: "FROM a:1 AS base\nRUN apt-get update\nFROM base\nRUN true\n", lines: [2] },
    "FROM debian:12\nRUN --mount=type=cache,target=/var/cache/apt apt-get update\n",
  ],
  passes: [
    "FROM debian:12\nRUN apt-get update && apt-get install -y curl=1 && rm -rf /var/lib/apt/lists/*\n",
    "FROM debian:12\nRUN --mount=type=cache,target=/var/lib/apt/lists apt-get update && apt-get install -y x=1\n",
    "FROM debian:12\nRUN --mount=type=cache,target=/var/lib/apt,sharing=locked apt-get update\n",
    "FROM debian:12\nRUN --mount=type=tmpfs,target=/var/lib/apt/lists apt-get update\n",
    "FROM debian:12 AS build\nRUN apt-get update && apt-get install -y gcc=12\nFROM scratch\nCOPY --from=build /out /\n",
  ],
});
