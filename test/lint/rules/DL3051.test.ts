import { ruleCases } from "../helpers.js";

ruleCases("DL3051", {
  triggers: [
    {
      df: 'FROM debian:12\nLABEL maintainer=""\n',
      opts: { labelSchema: { maintainer: "text", "org.opencontainers.image.url": "url" } },
    },
    {
      df: "FROM debian:12\nARG E=\nLABEL maintainer=$E\n",
      opts: { labelSchema: { maintainer: "text", "org.opencontainers.image.url": "url" } },
    },
  ],
  passes: [
    {
      df: "FROM debian:12\nLABEL maintainer=me\n",
      opts: { labelSchema: { maintainer: "text", "org.opencontainers.image.url": "url" } },
    },
    {
      df: 'FROM debian:12\nLABEL other=""\n',
      opts: { labelSchema: { maintainer: "text", "org.opencontainers.image.url": "url" } },
    },
  ],
});
