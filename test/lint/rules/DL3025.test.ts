import { ruleCases } from "../helpers.js";

ruleCases("DL3025", {
  triggers: [
    "FROM debian:12\nCMD node server.js\n",
    "FROM debian:12\nENTRYPOINT /entrypoint.sh\n",
    "FROM debian:12\nCMD [\"a\" 'b']\n",
  ],
  passes: [
    'FROM debian:12\nCMD ["node", "server.js"]\n',
    'FROM debian:12\nENTRYPOINT ["/entrypoint.sh"]\n',
    "FROM debian:12\nRUN echo hi\n",
  ],
});
