import { ruleCases } from "../helpers.js";

ruleCases("DL3048", {
  triggers: [
    "FROM debian:12\nLABEL My_Label=x\n",
    "FROM debian:12\nLABEL com.docker.foo=1\n",
    "FROM debian:12\nLABEL a..b=1\n",
    "FROM debian:12\nLABEL -x=1\n",
  ],
  passes: [
    "FROM debian:12\nLABEL org.opencontainers.image.title=app\n",
    'FROM debian:12\nLABEL maintainer="me" version=1\n',
    "FROM debian:12\nLABEL a-b.c=1\n",
  ],
});
