import { ruleCases } from "../helpers.js";

ruleCases("DuplicateStageName", {
  triggers: [{ df: "FROM a:1 AS x\nFROM b:1 AS x\n", lines: [2] }],
  passes: ["FROM a:1 AS x\nFROM b:1 AS y\n"],
});
