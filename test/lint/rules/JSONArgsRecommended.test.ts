import { ruleCases } from "../helpers.js";

ruleCases("JSONArgsRecommended", {
  triggers: ["FROM debian:12\nCMD node server.js\n", "FROM debian:12\nENTRYPOINT my-server --port 80\n"],
  passes: [
    'FROM debian:12\nCMD ["node"]\n',
    'FROM debian:12\nSHELL ["/bin/bash", "-c"]\nCMD echo hi\n',
    'FROM a:1 AS b\nSHELL ["/bin/bash", "-c"]\nFROM b\nCMD echo hi\n',
  ],
});
