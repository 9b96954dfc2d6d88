import { ruleCases } from "../helpers.js";

ruleCases("DL3046", {
  triggers: [
    "FROM debian:12\nRUN useradd -u 123456 app\n",
    "FROM debian:12\nRUN useradd --uid=1000000 -m app\n",
  ],
  passes: [
    "FROM debian:12\nRUN useradd -l -u 123456 app\n",
    "FROM debian:12\nRUN useradd -u 1000 app\n",
    "FROM debian:12\nRUN useradd --no-log-init --uid 99999999 a\n",
  ],
});
