import { ruleCases } from "../helpers.js";

ruleCases("DL3024", {
  triggers: [{ df: "FROM a:1 AS x\nFROM b:1 AS x\n", lines: [2] }, "FROM a:1 AS X\nFROM b:1 AS x\n"],
  passes: ["FROM a:1 AS x\nFROM b:1 AS y\n", "FROM a:1\nFROM b:1\n"],
});
