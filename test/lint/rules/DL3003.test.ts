import { ruleCases } from "../helpers.js";

ruleCases("DL3003", {
  triggers: [
    "FROM debian:12\nRUN <<-EOT bash\n\tset -e\n\tcd /etc\nEOT\n",
    "FROM debian:12\nRUN cd /app && make\n",
    "FROM debian:12\nRUN make; cd build\n",
    "FROM debian:12\nRUN <<EOF\ncd /tmp\nEOF\n",
  ],
  passes: [
    "FROM debian:12\nWORKDIR /app\nRUN make\n",
    "FROM debian:12\nRUN echo cd /x\n",
    "FROM debian:12\nRUN x=$(cd /a && pwd) && echo $x\n",
  ],
});
