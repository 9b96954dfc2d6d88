import { ruleCases } from "../helpers.js";

ruleCases("DL3034", {
  triggers: ["FROM debian:12\nRUN zypper install curl=8\n", "FROM debian:12\nRUN zypper rm curl\n"],
  passes: [
    "FROM debian:12\nRUN zypper install -y curl=8\n",
    "FROM debian:12\nRUN zypper -n install curl=8\n",
    "FROM debian:12\nRUN zypper --non-interactive in curl=8\n",
    "FROM debian:12\nRUN zypper refresh\n",
  ],
});
