import { ruleCases } from "../helpers.js";

ruleCases("DL3067", {
  triggers: [
    "FROM a:1 AS b\nFROM c:1\nCOPY --from=b / /\n",
    "FROM a:1 AS b\nFROM c:1\nCOPY --from=b / /rootfs/\n",
  ],
  passes: ["FROM a:1 AS b\nFROM c:1\nCOPY --from=b /app /app\n", "FROM debian:12\nCOPY / /x/\n"],
});
