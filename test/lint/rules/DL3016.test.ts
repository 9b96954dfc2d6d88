import { ruleCases } from "../helpers.js";

ruleCases("DL3016", {
  triggers: [
    "FROM debian:12\nRUN npm install -g typescript\n",
    "FROM debian:12\nRUN npm i express@4 lodash\n",
    "FROM debian:12\nRUN npm install @types/node\n",
  ],
  passes: [
    "FROM debian:12\nRUN npm install\n",
    "FROM debian:12\nRUN npm ci\n",
    "FROM debian:12\nRUN npm install -g typescript@5.4.5\n",
    "FROM debian:12\nRUN npm install @types/node@20\n",
    "FROM debian:12\nRUN npm install ./local-pkg\n",
    "FROM debian:12\nRUN npm install git+https://github.com/a/b.git\n",
  ],
});
