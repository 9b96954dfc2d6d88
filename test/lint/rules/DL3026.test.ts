import { ruleCases } from "../helpers.js";

ruleCases("DL3026", {
  triggers: [
    {
      df: "FROM evil.example.com/debian:12\n",
      opts: { config: { trustedRegistries: ["docker.io", "*.gcr.io"] } },
    },
    { df: "FROM quay.io/a/b:1\n", opts: { trustedRegistries: ["docker.io"] } },
  ],
  passes: [
    { df: "FROM debian:12\n", opts: { config: { trustedRegistries: ["docker.io", "*.gcr.io"] } } },
    { df: "FROM eu.gcr.io/p/img:1\n", opts: { config: { trustedRegistries: ["docker.io", "*.gcr.io"] } } },
    { df: "FROM evil.example.com/debian:12\n" },
    { df: "FROM scratch\n", opts: { config: { trustedRegistries: ["docker.io", "*.gcr.io"] } } },
    { df: "FROM a.io/x:1 AS b\nFROM b\n", opts: { trustedRegistries: ["a.io"] } },
  ],
});
