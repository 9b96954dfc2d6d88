import { ruleCases } from "../helpers.js";

ruleCases("InvalidDefaultArgInFrom", {
  triggers: [
    "ARG TAG\nFROM alpine:${TAG}\n",
    "ARG IMAGE\nFROM $IMAGE\n",
    "ARG V=UPPER\nFROM alpine:3 AS a\nFROM $V\n",
  ],
  passes: [
    "ARG TAG=3.19\nFROM alpine:${TAG}\n",
    "ARG TAG\nFROM alpine:${TAG:-3.19}\n",
    "FROM alpine:3.19\n",
    "ARG B=base\nFROM alpine:3 AS base\nFROM $B\n",
  ],
});
