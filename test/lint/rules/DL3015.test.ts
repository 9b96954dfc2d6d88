import { ruleCases } from "../helpers.js";

ruleCases("DL3015", {
  triggers: [
    "FROM debian:12\nRUN apt-get install -y curl\n",
    "FROM debian:12\nRUN apt-get -y install curl && apt-get clean\n",
  ],
  passes: [
    "FROM debian:12\nRUN apt-get install -y --no-install-recommends curl\n",
    "FROM debian:12\nRUN apt-get -o APT::Install-Recommends=false install -y curl\n",
    "FROM debian:12\nRUN apt-get update\n",
  ],
});
