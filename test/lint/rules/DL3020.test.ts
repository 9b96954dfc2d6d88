import { ruleCases } from "../helpers.js";

ruleCases("DL3020", {
  triggers: [
    "FROM debian:12\nADD app.py /app/\n",
    "FROM debian:12\nADD . /src\n",
    'FROM debian:12\nADD ["a.txt", "/x/"]\n',
  ],
  passes: [
    "FROM debian:12\nADD https://example.com/a.tar.gz /tmp/\n",
    "FROM debian:12\nADD rootfs.tar.xz /\n",
    "FROM debian:12\nCOPY app.py /app/\n",
    "FROM debian:12\nADD git@github.com:a/b.git /src\n",
    "FROM debian:12\nADD <<EOF /x\nhi\nEOF\n",
  ],
});
