import { ruleCases } from "../helpers.js";

ruleCases("DL4006", {
  triggers: [
    "FROM debian:12\nRUN curl -fsSL https://x | sh\n",
    "FROM debian:12\nRUN <<EOF\ncat a | grep b\nEOF\n",
    'FROM debian:12\nSHELL ["/bin/bash", "-c"]\nRUN a | b\n',
    'FROM a:1 AS b\nSHELL ["/bin/bash", "-o", "pipefail", "-c"]\nFROM c:1\nRUN a | b\n',
  ],
  passes: [
    'FROM debian:12\nSHELL ["/bin/bash", "-o", "pipefail", "-c"]\nRUN curl -fsSL https://x | sh\n',
    "FROM debian:12\nRUN set -o pipefail && a | b\n",
    "FROM debian:12\nRUN a || b\n",
    'FROM debian:12\nSHELL ["/bin/ash", "-c"]\nRUN a | b\n',
    'FROM debian:12\nSHELL ["pwsh", "-c"]\nRUN a | b\n',
    "FROM debian:12\nRUN echo 'a | b'\n",
    'FROM debian:12\nRUN ["sh", "-c", "a"]\n',
    "FROM debian:12\nRUN x=$(ls | wc -l) && echo $x\n",
    'FROM a:1 AS b\nSHELL ["/bin/bash", "-eo", "pipefail", "-c"]\nFROM b\nRUN a | b\n',
    "FROM debian:12\nRUN <<EOF\nset -euo pipefail\na | b\nEOF\n",
  ],
});
