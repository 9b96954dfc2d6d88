import type { Rule } from "../rule.js";
import { checkTyped } from "./_labels.js";

// Common SPDX license identifiers (https://spdx.org/licenses/), matched case-insensitively.
const IDS = `0BSD AFL-3.0 AGPL-1.0 AGPL-3.0 AGPL-3.0-only AGPL-3.0-or-later Apache-1.0 Apache-1.1 Apache-2.0
APSL-2.0 Artistic-1.0 Artistic-2.0 BSD-1-Clause BSD-2-Clause BSD-2-Clause-Patent BSD-3-Clause BSD-3-Clause-Clear
BSD-4-Clause BSL-1.0 BUSL-1.1 CC-BY-3.0 CC-BY-4.0 CC-BY-SA-3.0 CC-BY-SA-4.0 CC0-1.0 CDDL-1.0 CDDL-1.1 CECILL-2.1
CPL-1.0 ECL-2.0 EFL-2.0 EPL-1.0 EPL-2.0 EUPL-1.1 EUPL-1.2 GFDL-1.3 GFDL-1.3-only GFDL-1.3-or-later GPL-1.0
GPL-1.0-only GPL-1.0-or-later GPL-2.0 GPL-2.0-only GPL-2.0-or-later GPL-3.0 GPL-3.0-only GPL-3.0-or-later ISC
LGPL-2.0 LGPL-2.0-only LGPL-2.0-or-later LGPL-2.1 LGPL-2.1-only LGPL-2.1-or-later LGPL-3.0 LGPL-3.0-only
LGPL-3.0-or-later LPPL-1.3c MIT MIT-0 MPL-1.0 MPL-1.1 MPL-2.0 MPL-2.0-no-copyleft-exception MS-PL MS-RL NCSA OFL-1.1
OpenSSL OSL-3.0 PHP-3.0 PHP-3.01 PostgreSQL Python-2.0 Ruby SSPL-1.0 Unlicense UPL-1.0 Vim W3C WTFPL X11 Zlib
ZPL-2.1 BlueOak-1.0.0 Elastic-2.0 curl libpng-2.0 Unicode-DFS-2016 HPND ICU JSON LiLiQ-P-1.1 MulanPSL-2.0 NTP
Sleepycat TCL Beerware CC-BY-NC-4.0 CC-BY-ND-4.0 CC-BY-NC-SA-4.0 AML bzip2-1.0.6 GPL-2.0-with-classpath-exception`;
const KNOWN = new Set(IDS.split(/\s+/).map((s) => s.toLowerCase()));
const EXCEPTIONS =
  /^(classpath-exception-2\.0|llvm-exception|gcc-exception-3\.1|openssl-exception|autoconf-exception-3\.0|bison-exception-2\.2|font-exception-2\.0|linux-syscall-note|swift-exception|[a-z0-9.-]+-exception(-[0-9.]+)?)$/i;

/** An SPDX license expression: ids (with `+`), LicenseRef-…, AND/OR/WITH, parentheses. */
export function isSpdx(v: string): boolean {
  const toks = v.replace(/[()]/g, " $& ").trim().split(/\s+/);
  let expectId = true;
  let depth = 0;
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i]!;
    if (t === "(") {
      if (!expectId) return false;
      depth++;
      continue;
    }
    if (t === ")") {
      if (expectId || --depth < 0) return false;
      continue;
    }
    if (expectId) {
      const id = t.endsWith("+") ? t.slice(0, -1) : t;
      if (
        !KNOWN.has(id.toLowerCase()) &&
        !/^(DocumentRef-[A-Za-z0-9.-]+:)?LicenseRef-[A-Za-z0-9.-]+$/.test(id)
      )
        return false;
      expectId = false;
      if (toks[i + 1] === "WITH") {
        if (!toks[i + 2] || !EXCEPTIONS.test(toks[i + 2]!)) return false;
        i += 2;
      }
      continue;
    }
    if (t !== "AND" && t !== "OR") return false;
    expectId = true;
  }
  return !expectId && depth === 0;
}

export const rule: Rule = {
  id: "DL3054",
  level: "warning",
  source: "hadolint",
  description: "Label `<label>` is not a valid SPDX identifier.",
  example: "LABEL org.opencontainers.image.licenses=MIT-ish (type spdx)",
  check(ctx, report) {
    checkTyped(ctx, "spdx", isSpdx, (ins, key) =>
      report({ ins, message: `Label \`${key}\` is not a valid SPDX identifier.` }),
    );
  },
};
