import { ruleCases } from "../helpers.js";

ruleCases("DL3004", {
  triggers: [
    "FROM debian:12\nRUN sudo apt-get update\n",
    "FROM debian:12\nRUN true && sudo -u app make\n",
    "FROM debian:12\nRUN if true; then sudo ls; fi\n",
  ],
  passes: [
    "FROM debian:12\nRUN echo sudo\n",
    "FROM debian:12\nRUN apt-get install -y sudo=1.9\n",
    "FROM debian:12\nRUN gosu app ls\n",
  ],
});
