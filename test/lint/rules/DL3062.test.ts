import { ruleCases } from "../helpers.js";

ruleCases("DL3062", {
  triggers: [
    "FROM debian:12\nRUN go install golang.org/x/tools/gopls\n",
    "FROM debian:12\nRUN go install golang.org/x/tools/gopls@latest\n",
  ],
  passes: [
    "FROM debian:12\nRUN go install golang.org/x/tools/gopls@v0.15.3\n",
    "FROM debian:12\nRUN go install ./...\n",
    "FROM debian:12\nRUN go build -o /app .\n",
    "FROM debian:12\nRUN go install -ldflags=-s example.com/cmd@v1.2.3\n",
  ],
});
