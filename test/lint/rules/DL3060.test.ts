import { ruleCases } from "../helpers.js";

ruleCases("DL3060", {
  triggers: [
    "FROM debian:12\nRUN yarn install\n",
    "FROM debian:12\nRUN yarn\n",
    "FROM debian:12\nRUN yarn install --frozen-lockfile && yarn build\n",
  ],
  passes: [
    "FROM debian:12\nRUN yarn install && yarn cache clean\n",
    "FROM debian:12\nRUN --mount=type=cache,target=/usr/local/share/.cache/yarn yarn install\n",
    "FROM debian:12\nRUN yarn build\n",
    "FROM node:20 AS b\nRUN yarn install\nFROM scratch\nCOPY --from=b /x /x\n",
  ],
});
