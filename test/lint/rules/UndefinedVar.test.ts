import { ruleCases } from "../helpers.js";

ruleCases("UndefinedVar", {
  triggers: [
    "FROM scratch\nENV A=1 B=$A\n",
    "FROM scratch\nCOPY $SRC /app\n",
    "ARG VERSION=1\nFROM debian:12\nLABEL v=$VERSION\nENV X=1\n",
    "FROM debian:12\nARG NODE_VERSION=20\nENV V=${NODE_VERSON}\n",
  ],
  passes: [
    "FROM scratch\nARG SRC=.\nCOPY $SRC /app\n",
    "FROM debian:12\nENV PATH=$PATH:/x\n",
    "FROM debian:12\nARG V\nLABEL v=$V\n",
    "ARG VERSION=1\nFROM debian:12\nARG VERSION\nLABEL v=$VERSION\n",
    "FROM debian:12\nRUN echo $UNDEFINED\n",
    "FROM scratch\nENV A=1\nFROM scratch AS x\nCOPY a /\n",
    "FROM scratch\nLABEL x='$NOPE'\n",
    "FROM scratch\nARG TARGETARCH\nCOPY bin-$TARGETARCH /\n",
  ],
});
