import { ruleCases } from "../helpers.js";

ruleCases("DL3008", {
  triggers: [
    "FROM debian:12\nRUN apt-get install -y curl\n",
    "FROM debian:12\nRUN apt-get update && apt-get -y install --no-install-recommends curl=7 wget\n",
    "FROM debian:12\nRUN <<EOF\napt-get install -y curl\nEOF\n",
    'FROM debian:12\nRUN ["apt-get", "install", "-y", "curl"]\n',
  ],
  passes: [
    "FROM debian:12\nARG PKGS\nRUN apt-get install -y --no-install-recommends $PKGS\n",
    "FROM debian:12\nRUN apt-get install -y curl=7.88.1-10+deb12u5\n",
    "FROM debian:12\nRUN apt-get install -y ./local.deb\n",
    "FROM debian:12\nRUN apt-get -t bookworm-backports install -y curl=8\n",
    "FROM debian:12\nRUN apt-get update\n",
    "FROM debian:12\nRUN echo apt-get install curl\n",
  ],
});
