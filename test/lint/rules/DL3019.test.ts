import { ruleCases } from "../helpers.js";

ruleCases("DL3019", {
  triggers: [
    "FROM debian:12\nRUN apk add curl=8\n",
    "FROM debian:12\nRUN apk update && apk add --virtual .x bash=5\n",
  ],
  passes: [
    "FROM debian:12\nRUN apk add --no-cache curl=8\n",
    "FROM debian:12\nRUN --mount=type=cache,target=/var/cache/apk apk add curl=8\n",
    "FROM debian:12\nRUN --mount=type=cache,target=/etc/apk/cache apk add curl=8\n",
    "FROM debian:12\nRUN apk add curl=8 && rm -rf /var/cache/apk/*\n",
    "FROM debian:12\nRUN apk del curl\n",
  ],
});
