import { ruleCases } from "../helpers.js";

ruleCases("DL3050", {
  triggers: [
    {
      df: "FROM debian:12\nLABEL other=x\n",
      opts: {
        labelSchema: { maintainer: "text", "org.opencontainers.image.url": "url" },
        strictLabels: true,
      },
    },
  ],
  passes: [
    {
      df: "FROM debian:12\nLABEL other=x\n",
      opts: { labelSchema: { maintainer: "text", "org.opencontainers.image.url": "url" } },
    },
    {
      df: "FROM debian:12\nLABEL maintainer=me\n",
      opts: {
        labelSchema: { maintainer: "text", "org.opencontainers.image.url": "url" },
        strictLabels: true,
      },
    },
  ],
});
