import { ruleCases } from "../helpers.js";

ruleCases("DL3013", {
  triggers: [
    "FROM debian:12\nRUN pip install flask\n",
    "FROM debian:12\nRUN pip3 install --no-cache-dir requests==2.31 flask\n",
    "FROM debian:12\nRUN python3 -m pip install django\n",
    "FROM debian:12\nRUN <<EOF\npip install numpy\nEOF\n",
  ],
  passes: [
    "FROM debian:12\nRUN pip install flask==3.0.0\n",
    "FROM debian:12\nRUN pip install -r requirements.txt\n",
    "FROM debian:12\nRUN pip install .\n",
    "FROM debian:12\nRUN pip install 'flask>=3,<4'\n",
    "FROM debian:12\nRUN pip install ./dist/app-1.0-py3-none-any.whl\n",
    "FROM debian:12\nRUN pip install git+https://github.com/x/y.git@v1\n",
    "FROM debian:12\nRUN pip install --index-url https://pypi.example/simple flask==3\n",
  ],
});
