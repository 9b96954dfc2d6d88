import { ruleCases } from "../helpers.js";

ruleCases("DL3033", {
  triggers: [
    "FROM debian:12\nRUN yum install -y httpd && yum clean all\n",
    "FROM debian:12\nRUN yum install -y a-1.0 python3-pip\n",
  ],
  passes: [
    "FROM debian:12\nRUN yum install -y httpd-2.4.57 && yum clean all\n",
    "FROM debian:12\nRUN yum install -y ./x.rpm\n",
    "FROM debian:12\nRUN yum install -y @development\n",
    "FROM debian:12\nRUN yum remove -y httpd\n",
  ],
});
