import { ruleCases } from "../helpers.js";

ruleCases("DL4005", {
  triggers: [
    "FROM debian:12\nRUN ln -sf /bin/bash /bin/sh\n",
    "FROM debian:12\nRUN ln -s /bin/dash /bin/sh && true\n",
  ],
  passes: [
    "FROM debian:12\nRUN ln -sf /bin/bash /usr/local/bin/sh2\n",
    'FROM debian:12\nSHELL ["/bin/bash", "-c"]\n',
    "FROM debian:12\nRUN ln -s /bin/sh /usr/bin/mysh\n",
  ],
});
