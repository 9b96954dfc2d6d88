// .dockerignore exactly as Docker/BuildKit read it: moby/patternmatcher + ignorefile.ReadAll.
import { DockyardError } from "../image/errors.js";

export interface IgnorePattern {
  /** The cleaned pattern (no leading "!"). */
  pattern: string;
  exclusion: boolean;
  regex: RegExp;
  /** Leading directory components (for "could something under this dir be re-included?"). */
  dirs: string[];
}

/** Parses .dockerignore text: `#` comments (only at line start), blank lines, `!` exceptions, leading `/`. */
export function parseDockerignore(text: string): string[] {
  const out: string[] = [];
  let first = true;
  for (let line of text.split(/\r?\n/)) {
    if (first) {
      line = line.replace(/^\uFEFF/, "");
      first = false;
    }
    if (line.startsWith("#")) continue;
    let p = line.trim();
    if (!p) continue;
    const invert = p.startsWith("!");
    if (invert) p = p.slice(1).trim();
    if (p.length > 0) {
      p = goClean(p);
      if (p.length > 1 && p.startsWith("/")) p = p.slice(1);
    }
    out.push(invert ? "!" + p : p);
  }
  return out;
}

/** Go's filepath.Clean for slash paths. */
export function goClean(p: string): string {
  if (p === "") return ".";
  const rooted = p.startsWith("/");
  const parts: string[] = [];
  for (const c of p.split("/")) {
    if (c === "" || c === ".") continue;
    if (c === "..") {
      if (parts.length && parts[parts.length - 1] !== "..") parts.pop();
      else if (!rooted) parts.push("..");
      continue;
    }
    parts.push(c);
  }
  const s = (rooted ? "/" : "") + parts.join("/");
  return s || (rooted ? "/" : ".");
}

const REGEX_SPECIAL = new Set([".", "$", "^", "+", "(", ")", "{", "}", "|"]);

/** Compiles one pattern like patternmatcher's Pattern.compile (unix separator). */
export function compilePattern(raw: string): IgnorePattern {
  let exclusion = false;
  let pattern = raw;
  if (pattern.startsWith("!")) {
    if (pattern.length === 1) throw new DockyardError("CONFIG_INVALID", 'illegal exclusion pattern: "!"');
    exclusion = true;
    pattern = pattern.slice(1);
  }
  pattern = goClean(pattern);
  const chars = [...pattern];
  let re = "^";
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    if (ch === "*") {
      if (chars[i + 1] === "*") {
        i++;
        if (chars[i + 1] === "/") i++;
        if (i + 1 >= chars.length) re += ".*";
        else re += "(.*/)?";
      } else re += "[^/]*";
    } else if (ch === "?") re += "[^/]";
    else if (REGEX_SPECIAL.has(ch)) re += "\\" + ch;
    else if (ch === "\\") {
      if (i + 1 < chars.length) re += "\\" + chars[++i];
      else re += "\\\\";
    } else if (ch === "[" || ch === "]") re += ch;
    else re += ch;
  }
  re += "$";
  let regex: RegExp;
  try {
    regex = new RegExp(re, "s");
  } catch {
    throw new DockyardError("CONFIG_INVALID", `invalid .dockerignore pattern ${JSON.stringify(raw)}`);
  }
  return { pattern, exclusion, regex, dirs: pattern.split("/") };
}

export class PatternMatcher {
  readonly patterns: IgnorePattern[];
  readonly hasExclusions: boolean;
  constructor(patterns: string[]) {
    this.patterns = patterns.filter((p) => p !== "").map(compilePattern);
    this.hasExclusions = this.patterns.some((p) => p.exclusion);
  }

  /** patternmatcher.MatchesOrParentMatches: is `file` (slash path relative to the context) excluded? */
  matches(file: string): boolean {
    let matched = false;
    let parents: string[] | undefined;
    for (const p of this.patterns) {
      if (p.exclusion !== matched) continue;
      let m = p.regex.test(file);
      if (!m) {
        if (!parents) {
          parents = [];
          for (let i = file.indexOf("/"); i >= 0; i = file.indexOf("/", i + 1))
            parents.push(file.slice(0, i));
        }
        for (const parent of parents) {
          if (p.regex.test(parent)) {
            m = true;
            break;
          }
        }
      }
      if (m) matched = !p.exclusion;
    }
    return matched;
  }

  /**
   * For a walk: which patterns match directory `dir` or one of its parents (`up`: the same for
   * the parent of `dir`). With it, `matchesIn` tests each file against its own name only instead
   * of re-testing every parent directory for every file.
   */
  parentHits(dir: string, up?: boolean[]): boolean[] {
    return this.patterns.map((p, i) => (up?.[i] ?? false) || (dir !== "" && p.regex.test(dir)));
  }

  /** `matches(file)` for a file directly in the directory whose `parentHits` are `hits`. */
  matchesIn(file: string, hits: boolean[]): boolean {
    let matched = false;
    const ps = this.patterns;
    for (let i = 0; i < ps.length; i++) {
      const p = ps[i]!;
      if (p.exclusion !== matched) continue;
      if (hits[i] || p.regex.test(file)) matched = !p.exclusion;
    }
    return matched;
  }

  /**
   * For an excluded directory: could an exclusion ("!") pattern re-include something under it?
   * (fsutil walks into such directories; otherwise the whole directory is skipped.)
   */
  mayReincludeUnder(dir: string): boolean {
    if (!this.hasExclusions) return false;
    const dparts = dir.split("/");
    for (const p of this.patterns) {
      if (!p.exclusion) continue;
      if (p.pattern.includes("**")) return true;
      // compare the pattern's leading components with the dir's, glob by glob
      let ok = true;
      for (let i = 0; i < dparts.length && i < p.dirs.length; i++) {
        const seg = compilePattern(p.dirs[i]!).regex;
        if (!seg.test(dparts[i]!)) {
          ok = false;
          break;
        }
      }
      if (ok && p.dirs.length > dparts.length) return true;
    }
    return false;
  }
}
