import { ruleCases } from "../helpers.js";

ruleCases("DL3049", {
  triggers: [
    {
      df: "FROM debian:12\n",
      opts: { labelSchema: { maintainer: "text", "org.opencontainers.image.url": "url" } },
      lines: [1, 1],
    },
    {
      df: "FROM debian:12\nLABEL maintainer=me\n",
      opts: { labelSchema: { maintainer: "text", "org.opencontainers.image.url": "url" } },
      lines: [1],
    },
  ],
  passes: [
    {
      df: "FROM debian:12\nLABEL maintainer=me org.opencontainers.image.url=https://x.io\n",
      opts: { labelSchema: { maintainer: "text", "org.opencontainers.image.url": "url" } },
    },
    {
      df: "FROM a:1 AS b\nLABEL maintainer=me org.opencontainers.image.url=https://x.io\nFROM b\n",
      opts: { labelSchema: { maintainer: "text", "org.opencontainers.image.url": "url" } },
    },
    { df: "FROM debian:12\n" },
  ],
});
