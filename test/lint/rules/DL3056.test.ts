import { ruleCases } from "../helpers.js";

ruleCases("DL3056", {
  triggers: [
    { df: "FROM debian:12\nLABEL version=1.2\n", opts: { labelSchema: { version: "semver" } } },
    { df: "FROM debian:12\nLABEL version=01.2.3\n", opts: { labelSchema: { version: "semver" } } },
  ],
  passes: [
    { df: "FROM debian:12\nLABEL version=1.2.3\n", opts: { labelSchema: { version: "semver" } } },
    {
      df: "FROM debian:12\nLABEL version=1.2.3-rc.1+build.5\n",
      opts: { labelSchema: { version: "semver" } },
    },
    { df: "FROM debian:12\nARG V\nLABEL version=$V\n", opts: { labelSchema: { version: "semver" } } },
  ],
});
