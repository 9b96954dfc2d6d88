import { ruleCases } from "../helpers.js";

ruleCases("DL3011", {
  triggers: [
    "FROM debian:12\nEXPOSE 80000\n",
    "FROM debian:12\nEXPOSE 80 65536/udp\n",
    "FROM debian:12\nEXPOSE 8000-70000\n",
    "FROM debian:12\nARG P=99999\nEXPOSE $P\n",
  ],
  passes: [
    "FROM debian:12\nEXPOSE 80 443/tcp\n",
    "FROM debian:12\nEXPOSE 65535\n",
    "FROM debian:12\nEXPOSE $PORT\n",
    "FROM debian:12\nEXPOSE 8000-9000/udp\n",
  ],
});
