import { ruleCases } from "../helpers.js";

ruleCases("SecretsUsedInArgOrEnv", {
  triggers: [
    "FROM debian:12\nARG GITHUB_TOKEN\n",
    "FROM debian:12\nENV DB_PASSWORD=x\n",
    "FROM debian:12\nARG apikey\n",
  ],
  passes: [
    "FROM debian:12\nARG PUBLIC_KEY\n",
    "FROM debian:12\nENV TOKENIZER=1\n",
    "FROM debian:12\nARG KEY_FILE\n",
  ],
});
