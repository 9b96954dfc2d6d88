import { ruleCases } from "../helpers.js";

ruleCases("DL3038", {
  triggers: [
    "FROM debian:12\nRUN dnf install httpd-2.4\n",
    "FROM debian:12\nRUN microdnf install httpd-2.4\n",
  ],
  passes: [
    "FROM debian:12\nRUN dnf install -y httpd-2.4\n",
    "FROM debian:12\nRUN dnf -y install a-1\n",
    "FROM debian:12\nRUN microdnf --assumeyes install a-1\n",
    "FROM debian:12\nRUN dnf clean all\n",
  ],
});
