import { ruleCases } from "../helpers.js";

ruleCases("DL3058", {
  triggers: [
    { df: "FROM debian:12\nLABEL maintainer=nobody\n", opts: { labelSchema: { maintainer: "email" } } },
    { df: "FROM debian:12\nLABEL maintainer=a@@b\n", opts: { labelSchema: { maintainer: "email" } } },
  ],
  passes: [
    {
      df: "FROM debian:12\nLABEL maintainer=jane@example.com\n",
      opts: { labelSchema: { maintainer: "email" } },
    },
    {
      df: 'FROM debian:12\nLABEL maintainer="Jane Doe <jane@example.com>"\n',
      opts: { labelSchema: { maintainer: "email" } },
    },
  ],
});
