import { ruleCases } from "../helpers.js";

// Not checkable offline: the rule needs the base image's platform, supplied by the caller.
const arm = {
  resolveImagePlatform: (img: string) => (img.startsWith("armonly") ? "linux/arm64" : "linux/amd64"),
};

ruleCases("InvalidBaseImagePlatform", {
  triggers: [
    { df: "FROM armonly/app:1\n", opts: arm },
    { df: "FROM --platform=linux/amd64 armonly/app:1\n", opts: arm },
    { df: "FROM debian:12\n", opts: { ...arm, targetPlatform: "linux/arm64" } },
  ],
  passes: [
    { df: "FROM debian:12\n", opts: arm },
    { df: "FROM armonly/app:1\n", name: "no resolver (offline)" },
    { df: "FROM --platform=linux/arm64 armonly/app:1\n", opts: arm },
    { df: "FROM scratch\n", opts: arm },
  ],
});
