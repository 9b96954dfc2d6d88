import { ruleCases } from "../helpers.js";

ruleCases("DL3036", {
  triggers: [
    "FROM debian:12\nRUN zypper install -y curl=8\n",
    "FROM debian:12\nRUN zypper -n in curl=8 && echo done\n",
  ],
  passes: [
    "FROM debian:12\nRUN zypper install -y curl=8 && zypper clean\n",
    "FROM debian:12\nRUN zypper -n in a=1 && zypper cc -a\n",
    "FROM debian:12\nRUN --mount=type=cache,target=/var/cache/zypp zypper in -y a=1\n",
  ],
});
