import { ruleCases } from "../helpers.js";

ruleCases("DL3057", {
  triggers: ["FROM debian:12\n", "FROM a:1\nHEALTHCHECK CMD x\nFROM b:1\n"],
  passes: [
    "FROM debian:12\nHEALTHCHECK CMD curl -f http://localhost/\n",
    "FROM a:1 AS b\nHEALTHCHECK NONE\nFROM b\n",
  ],
});
