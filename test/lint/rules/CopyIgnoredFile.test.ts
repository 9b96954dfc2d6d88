import { ruleCases } from "../helpers.js";

ruleCases("CopyIgnoredFile", {
  triggers: [
    {
      df: "FROM debian:12\nCOPY .env /app/\n",
      opts: { dockerignore: "# comment\n.env\nnode_modules\n**/*.log\nsecrets/\n" },
    },
    {
      df: "FROM debian:12\nCOPY node_modules/x /app/\n",
      opts: { dockerignore: "# comment\n.env\nnode_modules\n**/*.log\nsecrets/\n" },
    },
    {
      df: "FROM debian:12\nADD logs/a.log /x\n",
      opts: { dockerignore: "# comment\n.env\nnode_modules\n**/*.log\nsecrets/\n" },
    },
    {
      df: "FROM debian:12\nCOPY ./secrets /s\n",
      opts: { dockerignore: "# comment\n.env\nnode_modules\n**/*.log\nsecrets/\n" },
    },
  ],
  passes: [
    {
      df: "FROM debian:12\nCOPY . /app\n",
      opts: { dockerignore: "# comment\n.env\nnode_modules\n**/*.log\nsecrets/\n" },
    },
    {
      df: "FROM debian:12\nCOPY src /app\n",
      opts: { dockerignore: "# comment\n.env\nnode_modules\n**/*.log\nsecrets/\n" },
    },
    { df: "FROM debian:12\nCOPY .env /app/\n" },
    { df: "FROM debian:12\nCOPY .env /app/\n", opts: { dockerignore: ".env\n!.env.example\n" } },
    {
      df: "FROM a:1 AS b\nFROM c:1\nCOPY --from=b .env /x\n",
      opts: { dockerignore: "# comment\n.env\nnode_modules\n**/*.log\nsecrets/\n" },
    },
  ],
});
