import { ruleCases } from "../helpers.js";

ruleCases("ExposeProtoCasing", {
  triggers: ["FROM debian:12\nEXPOSE 80/TCP\n", "FROM debian:12\nEXPOSE 53/Udp 80\n"],
  passes: ["FROM debian:12\nEXPOSE 80/tcp 53/udp 8080\n"],
});
