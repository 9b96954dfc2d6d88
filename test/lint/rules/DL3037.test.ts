import { ruleCases } from "../helpers.js";

ruleCases("DL3037", {
  triggers: [
    "FROM debian:12\nRUN zypper install -y curl && zypper clean\n",
    "FROM debian:12\nRUN zypper in -y a=1 b\n",
  ],
  passes: [
    "FROM debian:12\nRUN zypper install -y curl=8.0.1 && zypper clean\n",
    "FROM debian:12\nRUN zypper install -y 'curl>=8'\n",
    "FROM debian:12\nRUN zypper install -y ./a.rpm\n",
  ],
});
