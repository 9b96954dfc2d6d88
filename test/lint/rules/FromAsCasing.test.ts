import { ruleCases } from "../helpers.js";

ruleCases("FromAsCasing", {
  triggers: ["FROM debian:12 as build\n", "from debian:12 AS build\n"],
  passes: [
    "FROM debian:12 AS build\n",
    "from debian:12 as build\n",
    "From debian:12 as build\n",
    "FROM debian:12\n",
  ],
});
