import { ruleCases } from "../helpers.js";

ruleCases("DL3021", {
  triggers: [
    "FROM debian:12\nCOPY a.txt b.txt /dest\n",
    'FROM debian:12\nCOPY ["a", "b", "/c"]\n',
    "FROM debian:12\nCOPY --from=x a b c\n",
  ],
  passes: [
    "FROM debian:12\nCOPY a.txt b.txt /dest/\n",
    "FROM debian:12\nCOPY a.txt /dest\n",
    "FROM debian:12\nCOPY a b $DEST\n",
    "FROM debian:12\nARG D=/x/\nCOPY a b $D\n",
  ],
});
