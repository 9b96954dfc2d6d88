import { ruleCases } from "../helpers.js";

ruleCases("DL3035", {
  triggers: ["FROM debian:12\nRUN zypper dist-upgrade -y\n", "FROM debian:12\nRUN zypper -n dup\n"],
  passes: [
    "FROM debian:12\nRUN zypper update -y\n",
    "FROM debian:12\nRUN zypper install -y dist-upgrade=1\n",
  ],
});
