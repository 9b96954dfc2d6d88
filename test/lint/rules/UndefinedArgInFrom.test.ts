import { ruleCases } from "../helpers.js";

ruleCases("UndefinedArgInFrom", {
  triggers: [
    "FROM node:${NODE_VERSION}\n",
    { df: "ARG NODE_VERSION=20\nFROM node:${NODE_VERSON}\n", name: "typo" },
    "FROM --platform=$MYPLAT debian:12\n",
  ],
  passes: [
    "ARG NODE_VERSION=20\nFROM node:${NODE_VERSION}\n",
    "FROM --platform=$BUILDPLATFORM debian:12\n",
    "ARG V\nFROM x:$V\n",
    "FROM debian:12\nARG LATER\nFROM b:1\n",
  ],
});
