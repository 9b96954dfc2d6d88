import { ruleCases } from "../helpers.js";

ruleCases("DL3014", {
  triggers: [
    "FROM debian:12\nRUN apt-get install curl\n",
    "FROM debian:12\nRUN apt-get update && apt-get install --no-install-recommends curl\n",
    "FROM debian:12\nRUN apt-get -q install curl\n",
  ],
  passes: [
    "FROM debian:12\nRUN apt-get install -y curl\n",
    "FROM debian:12\nRUN apt-get -qqy install curl\n",
    "FROM debian:12\nRUN apt-get install --yes curl\n",
    "FROM debian:12\nRUN apt-get -q=2 install curl\n",
    "FROM debian:12\nRUN apt-get --assume-yes install curl\n",
    "FROM debian:12\nRUN apt-get update\n",
  ],
});
