import { ruleCases } from "../helpers.js";

ruleCases("DL4001", {
  triggers: [
    "FROM debian:12\nRUN wget -q https://a && curl -fsS https://b\n",
    { df: "FROM debian:12\nRUN wget -q https://a\nRUN curl -fsS https://b\n", lines: [3] },
  ],
  passes: [
    "FROM debian:12\nRUN curl -fsS https://a\n",
    "FROM a:1 AS b\nRUN curl -fsS https://a\nFROM c:1\nRUN wget -q https://b\n",
    "FROM debian:12\nRUN apt-get install -y curl=1 wget=1\n",
  ],
});
