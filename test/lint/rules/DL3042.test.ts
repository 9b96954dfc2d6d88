import { ruleCases } from "../helpers.js";

ruleCases("DL3042", {
  triggers: [
    "FROM debian:12\nRUN pip install flask==3.0.0\n",
    "FROM debian:12\nRUN python -m pip install -r req.txt\n",
    "FROM debian:12\nRUN <<EOF\npip3 install a==1\nEOF\n",
  ],
  passes: [
    "FROM debian:12\nRUN pip install --no-cache-dir flask==3.0.0\n",
    "FROM debian:12\nENV PIP_NO_CACHE_DIR=1\nRUN pip install flask==3\n",
    "FROM debian:12\nARG PIP_NO_CACHE_DIR=off\nRUN pip install flask==3\n",
    "FROM debian:12\nRUN --mount=type=cache,target=/root/.cache/pip pip install flask==3\n",
    "FROM debian:12\nRUN PIP_NO_CACHE_DIR=1 pip install a==1\n",
    "FROM debian:12\nRUN pip freeze\n",
  ],
});
