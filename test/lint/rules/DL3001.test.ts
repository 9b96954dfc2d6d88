import { ruleCases } from "../helpers.js";

ruleCases("DL3001", {
  triggers: [
    "FROM debian:12\nRUN service nginx start\n",
    "FROM debian:12\nRUN apt-get update && vim /etc/x\n",
    "FROM debian:12\nRUN <<EOF\nps aux\nEOF\n",
  ],
  passes: [
    "FROM debian:12\nRUN apt-get install -y procps=2\n",
    "FROM debian:12\nRUN echo ssh\n",
    "FROM debian:12\nRUN echo 'kill it'\n",
  ],
});
