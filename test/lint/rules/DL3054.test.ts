import { ruleCases } from "../helpers.js";

ruleCases("DL3054", {
  triggers: [
    { df: "FROM debian:12\nLABEL lic=MIT-ish\n", opts: { labelSchema: { lic: "spdx" } } },
    { df: 'FROM debian:12\nLABEL lic="MIT OR"\n', opts: { labelSchema: { lic: "spdx" } } },
  ],
  passes: [
    { df: "FROM debian:12\nLABEL lic=MIT\n", opts: { labelSchema: { lic: "spdx" } } },
    { df: 'FROM debian:12\nLABEL lic="Apache-2.0 OR MIT"\n', opts: { labelSchema: { lic: "spdx" } } },
    {
      df: 'FROM debian:12\nLABEL lic="(MIT AND BSD-3-Clause) OR GPL-2.0-or-later"\n',
      opts: { labelSchema: { lic: "spdx" } },
    },
    { df: "FROM debian:12\nLABEL lic=LicenseRef-Corp\n", opts: { labelSchema: { lic: "spdx" } } },
    {
      df: 'FROM debian:12\nLABEL lic="GPL-2.0-only WITH Classpath-exception-2.0"\n',
      opts: { labelSchema: { lic: "spdx" } },
    },
  ],
});
