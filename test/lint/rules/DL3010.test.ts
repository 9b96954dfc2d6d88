import { ruleCases } from "../helpers.js";

ruleCases("DL3010", {
  triggers: [
    "FROM debian:12\nCOPY app.tar.gz /tmp/\nRUN tar -xzf /tmp/app.tar.gz -C /opt\n",
    "FROM debian:12\nCOPY dist.zip /tmp/dist.zip\nRUN unzip /tmp/dist.zip\n",
  ],
  passes: [
    "FROM debian:12\nCOPY app.tar.gz /tmp/\nRUN ls /tmp\n",
    "FROM debian:12\nADD app.tar.gz /opt/\n",
    "FROM debian:12\nCOPY a.txt /tmp/\nRUN tar -xf other.tar\n",
  ],
});
