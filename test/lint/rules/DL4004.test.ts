import { ruleCases } from "../helpers.js";

ruleCases("DL4004", {
  triggers: [{ df: "FROM debian:12\nENTRYPOINT a\nENTRYPOINT b\n", lines: [3] }],
  passes: ["FROM debian:12\nENTRYPOINT a\nCMD b\n", "FROM a:1\nENTRYPOINT a\nFROM b:1\nENTRYPOINT b\n"],
});
