/**
 * `--chmod` of COPY/ADD: octal (`755`, at most 0o7777) or symbolic clauses (`u+x,go-w`, `a=rX`).
 * Returns the function from a file's mode to its new mode, or undefined when `spec` is neither.
 */
export function parseChmod(spec: string): ((mode: number, isDir: boolean) => number) | undefined {
  if (/^[0-7]{1,4}$/.test(spec)) {
    const m = parseInt(spec, 8);
    return () => m;
  }
  const clauses = spec.split(",");
  const re = /^([ugoa]*)([-+=])([rwxXst]*)$/;
  const parsed: { who: string; op: string; perms: string }[] = [];
  for (const c of clauses) {
    const m = re.exec(c);
    if (!m) return undefined;
    parsed.push({ who: m[1] || "a", op: m[2]!, perms: m[3]! });
  }
  return (mode, isDir) => {
    let out = mode & 0o7777;
    for (const { who, op, perms } of parsed) {
      let mask = 0;
      const whoMask = (w: string) => (w === "u" ? 0o4700 : w === "g" ? 0o2070 : w === "o" ? 0o1007 : 0o7777);
      let sel = 0;
      for (const w of who === "a" ? "ugo" : who) sel |= whoMask(w);
      for (const p of perms) {
        if (p === "r") mask |= 0o444;
        else if (p === "w") mask |= 0o222;
        else if (p === "x") mask |= 0o111;
        else if (p === "X") {
          if (isDir || mode & 0o111) mask |= 0o111;
        } else if (p === "s") mask |= 0o6000;
        else if (p === "t") mask |= 0o1000;
      }
      mask &= sel;
      if (op === "+") out |= mask;
      else if (op === "-") out &= ~mask;
      else out = (out & ~(sel & 0o7777)) | mask;
    }
    return out;
  };
}
