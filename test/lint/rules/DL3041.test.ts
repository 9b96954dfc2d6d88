import { ruleCases } from "../helpers.js";

ruleCases("DL3041", {
  triggers: [
    "FROM debian:12\nRUN dnf install -y httpd && dnf clean all\n",
    "FROM debian:12\nRUN microdnf install -y a-1 b\n",
  ],
  passes: [
    "FROM debian:12\nRUN dnf install -y httpd-2.4.57 && dnf clean all\n",
    "FROM debian:12\nRUN dnf install -y @core\n",
    "FROM debian:12\nRUN dnf install -y /tmp/x.rpm\n",
  ],
});
