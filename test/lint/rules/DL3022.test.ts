import { ruleCases } from "../helpers.js";

ruleCases("DL3022", {
  triggers: [
    "FROM debian:12\nCOPY --from=build /app /app\n",
    "FROM a:1\nCOPY --from=later /x /x\nFROM b:1 AS later\n",
  ],
  passes: [
    "FROM a:1 AS build\nFROM b:1\nCOPY --from=build /x /x\n",
    "FROM a:1\nFROM b:1\nCOPY --from=0 /x /x\n",
    "FROM debian:12\nCOPY --from=nginx:1.25 /etc/nginx /etc/nginx\n",
    "FROM a:1 AS Build\nFROM b:1\nCOPY --from=build /x /x\n",
    "FROM debian:12\nCOPY --from=$X /a /a\n",
  ],
});
