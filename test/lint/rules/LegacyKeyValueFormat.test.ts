import { ruleCases } from "../helpers.js";

ruleCases("LegacyKeyValueFormat", {
  triggers: [
    "FROM debian:12\nENV PATH /usr/local/bin:$PATH\n",
    "FROM debian:12\nLABEL maintainer Jane Doe\n",
  ],
  passes: [
    "FROM debian:12\nENV PATH=/usr/local/bin:$PATH\n",
    "FROM debian:12\nLABEL a=b c=d\n",
    'FROM debian:12\nENV A="b c"\n',
  ],
});
