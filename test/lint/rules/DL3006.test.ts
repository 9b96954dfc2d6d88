import { ruleCases } from "../helpers.js";

ruleCases("DL3006", {
  triggers: ["FROM debian\n", "FROM registry.example.com:5000/team/app\n", "ARG IMG=debian\nFROM $IMG\n"],
  passes: [
    "FROM debian:12\n",
    "FROM scratch\n",
    "FROM debian@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
    "FROM debian:12 AS base\nFROM base\n",
    "ARG TAG=12\nFROM debian:${TAG}\n",
    "ARG IMG\nFROM $IMG\n",
    "FROM localhost:5000/app:1\n",
  ],
});
