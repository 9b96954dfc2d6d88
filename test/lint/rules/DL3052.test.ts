import { ruleCases } from "../helpers.js";

ruleCases("DL3052", {
  triggers: [
    { df: "FROM debian:12\nLABEL url=not-a-url\n", opts: { labelSchema: { url: "url" } } },
    { df: "FROM debian:12\nLABEL url=example.com/x\n", opts: { labelSchema: { url: "url" } } },
  ],
  passes: [
    { df: "FROM debian:12\nLABEL url=https://example.com/x\n", opts: { labelSchema: { url: "url" } } },
    { df: "FROM debian:12\nLABEL url=$URL\n", opts: { labelSchema: { url: "url" } } },
    { df: "FROM debian:12\nLABEL url=bad\n" },
  ],
});
