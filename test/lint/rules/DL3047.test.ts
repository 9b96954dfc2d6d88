import { ruleCases } from "../helpers.js";

ruleCases("DL3047", {
  triggers: [
    "FROM debian:12\nRUN wget https://example.com/a.tgz\n",
    "FROM debian:12\nRUN wget -O /tmp/a https://x\n",
  ],
  passes: [
    "FROM debian:12\nRUN wget -q https://x\n",
    "FROM debian:12\nRUN wget -qO- https://x | sh\n",
    "FROM debian:12\nRUN wget --progress=dot:giga https://x\n",
    "FROM debian:12\nRUN wget -nv https://x\n",
    "FROM debian:12\nRUN wget --no-verbose https://x\n",
    "FROM debian:12\nRUN wget -o /dev/null https://x\n",
  ],
});
