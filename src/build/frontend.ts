// From the shared parser's nodes (src/dockerfile) to the build's stages and steps, and the
// variable expander (BuildKit's shell lexer). Errors name the Dockerfile line.
import { parseDockerfile, ShellLex, envFrom, type Node } from "../dockerfile/index.js";
import { DockyardError } from "../image/errors.js";
import type { Expander } from "./execute.js";
import type { Dockerfile, Heredoc, KV, Stage, Step } from "./plan.js";

export class DockerfileError extends DockyardError {
  constructor(
    message: string,
    readonly line?: number,
  ) {
    super("MANIFEST_INVALID", message);
  }
}

export function makeExpander(escape: string): Expander {
  const lex = new ShellLex(escape);
  const wrap = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (err) {
      throw new DockerfileError((err as Error).message);
    }
  };
  return {
    word: (w, env) => wrap(() => lex.processWord(w, envFrom(env))),
    words: (w, env) => wrap(() => lex.processWords(w, envFrom(env))),
  };
}

function flagsOf(n: Node, allowed: string[], where: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const f of n.flags) {
    const m = /^--([a-zA-Z-]+)(?:=(.*))?$/s.exec(f);
    if (!m) throw new DockerfileError(`${where}: invalid flag ${f}`, n.range.start.line);
    const name = m[1]!.toLowerCase();
    if (!allowed.includes(name))
      throw new DockerfileError(
        `${where}: unknown flag: --${name} (line ${n.range.start.line})`,
        n.range.start.line,
      );
    const list = out.get(name) ?? [];
    list.push(m[2] ?? "true");
    out.set(name, list);
  }
  return out;
}

function heredocsOf(n: Node): Heredoc[] {
  return n.heredocs.map((h) => ({ name: h.name, content: h.content, expand: h.expand, chomp: h.chomp }));
}

function triples(args: string[]): KV[] {
  const out: KV[] = [];
  for (let i = 0; i + 1 < args.length; i += 3) out.push({ key: args[i]!, value: args[i + 1]! });
  return out;
}

function argDecls(args: string[]): { name: string; value?: string }[] {
  return args.map((a) => {
    const i = a.indexOf("=");
    return i < 0 ? { name: a } : { name: a.slice(0, i), value: a.slice(i + 1) };
  });
}

function toStep(n: Node, where: string): Step {
  const line = n.range.start.line;
  const base = { line, original: n.original };
  const one = (what: string) => {
    if (n.args.length !== 1)
      throw new DockerfileError(`${n.keyword} requires exactly one argument${what} (line ${line})`, line);
    return n.args[0]!;
  };
  switch (n.keyword) {
    case "RUN": {
      const f = flagsOf(n, ["mount", "network", "security"], where);
      const network = f.get("network")?.at(-1);
      return {
        ...base,
        kind: "RUN",
        shell: !n.json,
        args: n.args,
        heredocs: heredocsOf(n),
        mounts: f.get("mount") ?? [],
        network,
      };
    }
    case "COPY":
    case "ADD": {
      const f = flagsOf(
        n,
        n.keyword === "COPY"
          ? ["from", "chown", "chmod", "link", "parents", "exclude"]
          : ["chown", "chmod", "link", "checksum", "keep-git-dir", "exclude", "from"],
        where,
      );
      if (n.args.length < 2)
        throw new DockerfileError(
          `${n.keyword} requires at least two arguments, but only one was provided. Destination could not be determined (line ${line})`,
          line,
        );
      const bool = (k: string) => {
        const v = f.get(k)?.at(-1);
        return v === undefined ? undefined : v !== "false";
      };
      return {
        ...base,
        kind: n.keyword,
        sources: n.args.slice(0, -1),
        dest: n.args.at(-1)!,
        heredocs: heredocsOf(n),
        from: f.get("from")?.at(-1),
        chown: f.get("chown")?.at(-1),
        chmod: f.get("chmod")?.at(-1),
        link: bool("link"),
        checksum: f.get("checksum")?.at(-1),
        keepGitDir: bool("keep-git-dir"),
        parents: bool("parents"),
        exclude: f.get("exclude"),
      };
    }
    case "ENV":
    case "LABEL":
      flagsOf(n, [], where);
      if (!n.args.length)
        throw new DockerfileError(`${n.keyword} requires at least one argument (line ${line})`, line);
      return { ...base, kind: n.keyword, pairs: triples(n.args) };
    case "ARG":
      return { ...base, kind: "ARG", args: argDecls(n.args) };
    case "WORKDIR":
      return { ...base, kind: "WORKDIR", path: one("") };
    case "USER":
      return { ...base, kind: "USER", user: one("") };
    case "EXPOSE":
      return { ...base, kind: "EXPOSE", ports: n.args };
    case "VOLUME":
      return { ...base, kind: "VOLUME", paths: n.args };
    case "STOPSIGNAL":
      return { ...base, kind: "STOPSIGNAL", signal: one("") };
    case "SHELL":
      if (!n.json)
        throw new DockerfileError(`SHELL requires the arguments to be in JSON form (line ${line})`, line);
      return { ...base, kind: "SHELL", args: n.args };
    case "CMD":
    case "ENTRYPOINT":
      return { ...base, kind: n.keyword, shell: !n.json, args: n.args };
    case "MAINTAINER":
      return { ...base, kind: "MAINTAINER", name: n.args.join(" ") };
    case "ONBUILD": {
      const sub = n.original.replace(/^\s*onbuild\s+/i, "");
      if (n.sub && ["ONBUILD", "FROM", "MAINTAINER"].includes(n.sub.keyword))
        throw new DockerfileError(
          `${n.sub.keyword} isn't allowed as an ONBUILD trigger (line ${line})`,
          line,
        );
      return { ...base, kind: "ONBUILD", expression: sub };
    }
    case "HEALTHCHECK": {
      const f = flagsOf(n, ["interval", "timeout", "start-period", "start-interval", "retries"], where);
      const type = (n.args[0] ?? "").toUpperCase();
      if (type === "NONE") return { ...base, kind: "HEALTHCHECK", test: null, shell: false };
      if (type !== "CMD")
        throw new DockerfileError(`Unknown type "${type}" in HEALTHCHECK (try CMD) (line ${line})`, line);
      return {
        ...base,
        kind: "HEALTHCHECK",
        test: n.args.slice(1),
        shell: !n.json,
        interval: f.get("interval")?.at(-1),
        timeout: f.get("timeout")?.at(-1),
        startPeriod: f.get("start-period")?.at(-1),
        startInterval: f.get("start-interval")?.at(-1),
        retries: f.get("retries")?.at(-1),
      };
    }
    default:
      throw new DockerfileError(`${where}:${line}: unknown instruction: ${n.cmd}`, line);
  }
}

export interface Frontend {
  dockerfile: Dockerfile;
  expander: Expander;
  escape: string;
}

/** Parses Dockerfile text into stages; the first parse error (with its line) is thrown. */
export function loadDockerfile(text: string, file = "Dockerfile"): Frontend {
  const r = parseDockerfile(text, { file });
  if (r.errors.length) {
    const e = r.errors[0]!;
    throw new DockerfileError(`${file}:${e.range.start.line}: ${e.message}`, e.range.start.line);
  }
  const df: Dockerfile = { globalArgs: [], stages: [], directives: {} };
  for (const d of r.directives) df.directives![d.name] = d.value;
  let cur: Stage | undefined;
  for (const n of r.nodes) {
    const line = n.range.start.line;
    if (n.keyword === "FROM") {
      const f = flagsOf(n, ["platform"], file);
      const a = n.args;
      if (a.length !== 1 && !(a.length === 3 && a[1]!.toLowerCase() === "as"))
        throw new DockerfileError(`${file}:${line}: FROM requires either one or three arguments`, line);
      cur = {
        index: df.stages.length,
        name: a.length === 3 ? a[2]!.toLowerCase() : undefined,
        base: a[0]!,
        platform: f.get("platform")?.at(-1),
        line,
        original: n.original,
        steps: [],
      };
      df.stages.push(cur);
      continue;
    }
    if (!cur) {
      if (n.keyword === "ARG") {
        df.globalArgs.push(...argDecls(n.args));
        continue;
      }
      throw new DockerfileError(
        `${file}:${line}: no build stage in current context (${n.keyword} before the first FROM)`,
        line,
      );
    }
    cur.steps.push(toStep(n, file));
  }
  if (!df.stages.length) throw new DockerfileError(`${file}: the Dockerfile has no FROM instruction`);
  return { dockerfile: df, expander: makeExpander(r.escape), escape: r.escape };
}
