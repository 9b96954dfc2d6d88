import { ruleCases } from "../helpers.js";

ruleCases("DL3030", {
  triggers: [
    "FROM debian:12\nRUN yum install httpd-2.4\n",
    "FROM debian:12\nRUN yum groupinstall 'Development Tools'\n",
  ],
  passes: [
    "FROM debian:12\nRUN yum install -y httpd-2.4\n",
    "FROM debian:12\nRUN yum -y install httpd-2.4\n",
    "FROM debian:12\nRUN yum --assumeyes install a-1\n",
    "FROM debian:12\nRUN yum clean all\n",
  ],
});
