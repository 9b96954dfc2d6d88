import { ruleCases } from "../helpers.js";

ruleCases("DL3027", {
  triggers: ["FROM debian:12\nRUN apt install -y curl\n", "FROM debian:12\nRUN apt update\n"],
  passes: [
    "FROM debian:12\nRUN apt-get install -y curl\n",
    "FROM debian:12\nRUN apt-cache policy curl\n",
    "FROM debian:12\nRUN echo apt\n",
  ],
});
