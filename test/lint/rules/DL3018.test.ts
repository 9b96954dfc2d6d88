import { ruleCases } from "../helpers.js";

ruleCases("DL3018", {
  triggers: [
    "FROM debian:12\nRUN apk add --no-cache curl\n",
    "FROM debian:12\nRUN apk add --virtual .deps gcc=12 musl-dev\n",
  ],
  passes: [
    "FROM debian:12\nRUN apk add --no-cache curl=8.5.0-r0\n",
    "FROM debian:12\nRUN apk add --no-cache --virtual .build-deps gcc=12.2\n",
    "FROM debian:12\nRUN apk update\n",
    "FROM debian:12\nRUN apk add --no-cache 'bash>5'\n",
  ],
});
