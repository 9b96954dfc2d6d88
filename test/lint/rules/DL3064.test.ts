import { ruleCases } from "../helpers.js";

ruleCases("DL3064", {
  triggers: [
    "FROM debian:12\nARG API_TOKEN\n",
    "FROM debian:12\nENV DB_PASSWORD=hunter2\n",
    "FROM debian:12\nARG AWS_SECRET_ACCESS_KEY=x\n",
    "FROM debian:12\nENV GITHUB_TOKEN x\n",
  ],
  passes: [
    "FROM debian:12\nARG PUBLIC_KEY\n",
    "FROM debian:12\nARG TOKEN_FILE=/run/secrets/t\n",
    "FROM debian:12\nENV KEYBOARD=us\n",
    "FROM debian:12\nARG PASSWORD_VERSION=2\n",
    "FROM debian:12\nENV MONKEY=1\n",
  ],
});
