import { ruleCases } from "../helpers.js";

ruleCases("DL3040", {
  triggers: [
    "FROM debian:12\nRUN dnf install -y httpd-2.4\n",
    "FROM debian:12\nRUN microdnf install -y a-1\n",
  ],
  passes: [
    "FROM debian:12\nRUN dnf install -y httpd-2.4 && dnf clean all\n",
    "FROM debian:12\nRUN microdnf install -y a-1 && microdnf clean all\n",
    "FROM debian:12\nRUN --mount=type=cache,target=/var/cache/dnf dnf install -y a-1\n",
    "FROM debian:12\nRUN dnf install -y a-1 && rm -rf /var/cache/dnf\n",
  ],
});
