import { ruleCases } from "../helpers.js";

ruleCases("DL3055", {
  triggers: [
    { df: "FROM debian:12\nLABEL rev=main\n", opts: { labelSchema: { rev: "hash" } } },
    { df: "FROM debian:12\nLABEL rev=abc\n", opts: { labelSchema: { rev: "hash" } } },
  ],
  passes: [
    {
      df: "FROM debian:12\nLABEL rev=0123456789abcdef0123456789abcdef01234567\n",
      opts: { labelSchema: { rev: "hash" } },
    },
    { df: "FROM debian:12\nLABEL rev=abc1234\n", opts: { labelSchema: { rev: "hash" } } },
  ],
});
