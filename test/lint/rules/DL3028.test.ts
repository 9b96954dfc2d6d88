import { ruleCases } from "../helpers.js";

ruleCases("DL3028", {
  triggers: ["FROM debian:12\nRUN gem install bundler\n", "FROM debian:12\nRUN gem install rails:7 rake\n"],
  passes: [
    "FROM debian:12\nRUN gem install bundler:2.5.6\n",
    "FROM debian:12\nRUN gem install bundler -v 2.5.6\n",
    "FROM debian:12\nRUN gem install --version=2.5 bundler\n",
    "FROM debian:12\nRUN gem update --system\n",
  ],
});
