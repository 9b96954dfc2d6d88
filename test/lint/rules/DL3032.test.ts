import { ruleCases } from "../helpers.js";

ruleCases("DL3032", {
  triggers: ["FROM debian:12\nRUN yum install -y httpd-2.4\n", "FROM debian:12\nRUN yum -y update\n"],
  passes: [
    "FROM debian:12\nRUN yum install -y httpd-2.4 && yum clean all\n",
    "FROM debian:12\nRUN --mount=type=cache,target=/var/cache/yum yum install -y a-1\n",
    "FROM debian:12\nRUN yum install -y a-1 && rm -rf /var/cache/yum\n",
    "FROM centos:7 AS b\nRUN yum install -y gcc-4\nFROM scratch\nCOPY --from=b /x /x\n",
  ],
});
