import { ruleCases } from "../helpers.js";

ruleCases("DL3053", {
  triggers: [
    { df: "FROM debian:12\nLABEL created=yesterday\n", opts: { labelSchema: { created: "rfc3339" } } },
    {
      df: "FROM debian:12\nLABEL created=2024-13-01T00:00:00Z\n",
      opts: { labelSchema: { created: "rfc3339" } },
    },
    { df: "FROM debian:12\nLABEL created=2024-01-01\n", opts: { labelSchema: { created: "rfc3339" } } },
  ],
  passes: [
    {
      df: "FROM debian:12\nLABEL created=2024-01-31T12:00:00Z\n",
      opts: { labelSchema: { created: "rfc3339" } },
    },
    {
      df: "FROM debian:12\nLABEL created=2024-01-31T12:00:00.5+02:00\n",
      opts: { labelSchema: { created: "rfc3339" } },
    },
  ],
});
