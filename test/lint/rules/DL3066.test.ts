import { ruleCases } from "../helpers.js";

ruleCases("DL3066", {
  triggers: [
    "FROM debian:12\nUSER app\n",
    "FROM debian:12\nUSER 1000:app\n",
    "FROM debian:12\nARG U=web\nUSER $U\n",
  ],
  passes: [
    "FROM debian:12\nUSER root\n",
    "FROM debian:12\nUSER root:root\n",
    "FROM debian:12\nUSER 1000\n",
    "FROM debian:12\nUSER 1000:1000\n",
    "FROM debian:12\nUSER $UID\n",
  ],
});
