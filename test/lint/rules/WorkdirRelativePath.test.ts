import { ruleCases } from "../helpers.js";

ruleCases("WorkdirRelativePath", {
  triggers: ["FROM debian:12\nWORKDIR app\n", "FROM a:1 AS b\nWORKDIR x\nFROM b\nWORKDIR y\n"],
  passes: ["FROM debian:12\nWORKDIR /app\nWORKDIR sub\n", "FROM a:1 AS b\nWORKDIR /x\nFROM b\nWORKDIR y\n"],
});
