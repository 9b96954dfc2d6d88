import { ruleCases } from "../helpers.js";

ruleCases("DL3023", {
  triggers: ["FROM a:1 AS build\nCOPY --from=build /x /y\n", "FROM a:1\nCOPY --from=0 /x /y\n"],
  passes: ["FROM a:1 AS build\nFROM b:1 AS final\nCOPY --from=build /x /y\n", "FROM debian:12\nCOPY a b\n"],
});
