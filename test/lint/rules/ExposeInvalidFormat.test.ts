import { ruleCases } from "../helpers.js";

ruleCases("ExposeInvalidFormat", {
  triggers: ["FROM debian:12\nEXPOSE 8080:80\n", "FROM debian:12\nEXPOSE 127.0.0.1:80:80/tcp\n"],
  passes: ["FROM debian:12\nEXPOSE 80 443/tcp 8000-8010\n"],
});
