/**
 * The instruction layer (BuildKit's `frontend/dockerfile/instructions`): each parsed node becomes a
 * typed instruction, with the errors BuildKit's instruction parser reports (unknown instruction,
 * wrong argument counts, unknown or malformed flags, `FROM img AS name --platform=…`, …).
 */
import { InstructionError } from "./errors.js";
import { parseFlags, type FlagType, type FlagValues } from "./flags.js";
import { parseMount, type Mount } from "./mount.js";
import { chompHeredoc, parseHeredocWord } from "./parser.js";
import { suggest } from "./suggest.js";
import type { Heredoc, Node, ParseError, ParseResult, Range } from "./types.js";

export interface KeyValue {
  key: string;
  value: string;
  /** Legacy `ENV key value` form (no `=`). */
  legacy?: boolean;
}

interface Base {
  node: Node;
  range: Range;
  /** The stage the instruction belongs to (-1: global ARGs before the first FROM). */
  stage: number;
}

export interface FromInstruction extends Base {
  kind: "FROM";
  /** The base image or stage name as written (expansion happens in `resolveDockerfile`). */
  image: string;
  /** Stage name, lower-cased as BuildKit does. */
  name?: string;
  /** The stage name as written. */
  nameAsWritten?: string;
  platform?: string;
}

/** RUN, CMD, ENTRYPOINT: shell form (`shell: true`, one string) or exec form. */
export interface CommandLine {
  command: string[];
  /** Shell form: the command runs through the SHELL (BuildKit's PrependShell). */
  shell: boolean;
  /** Heredoc bodies (RUN): files the command can read (`name`, `data`, `chomp`). */
  files: { name: string; data: string; chomp: boolean; expand: boolean }[];
}

export interface RunInstruction extends Base, CommandLine {
  kind: "RUN";
  mounts: Mount[];
  network?: string;
  security?: string;
  flagsUsed: string[];
}
export interface CmdInstruction extends Base, CommandLine {
  kind: "CMD";
}
export interface EntrypointInstruction extends Base, CommandLine {
  kind: "ENTRYPOINT";
}

export interface SourceContent {
  /** The heredoc name. */
  path: string;
  data: string;
  expand: boolean;
}

export interface CopyInstruction extends Base {
  kind: "COPY" | "ADD";
  sources: string[];
  /** Heredoc sources (`COPY <<EOF /dst`). */
  contents: SourceContent[];
  dest: string;
  from?: string;
  chown?: string;
  chmod?: string;
  link: boolean;
  exclude: string[];
  /** COPY --parents */
  parents: boolean;
  /** ADD --checksum */
  checksum?: string;
  /** ADD --keep-git-dir */
  keepGitDir: boolean;
  /** ADD --unpack (undefined: default behaviour) */
  unpack?: boolean;
}

export interface EnvInstruction extends Base {
  kind: "ENV";
  pairs: KeyValue[];
}
export interface LabelInstruction extends Base {
  kind: "LABEL";
  pairs: KeyValue[];
}
export interface ArgInstruction extends Base {
  kind: "ARG";
  args: { key: string; value?: string }[];
}
export interface WorkdirInstruction extends Base {
  kind: "WORKDIR";
  path: string;
}
export interface UserInstruction extends Base {
  kind: "USER";
  user: string;
}
export interface ExposeInstruction extends Base {
  kind: "EXPOSE";
  /** As written (`80/tcp`, `8080-8090/udp`), in order. */
  ports: string[];
}
export interface VolumeInstruction extends Base {
  kind: "VOLUME";
  volumes: string[];
}
export interface StopSignalInstruction extends Base {
  kind: "STOPSIGNAL";
  signal: string;
}
export interface HealthcheckInstruction extends Base {
  kind: "HEALTHCHECK";
  /** `["NONE"]`, `["CMD", …exec]` or `["CMD-SHELL", "cmd"]` as in the image config. */
  test: string[];
  /** Nanoseconds; 0 = default. */
  interval: number;
  timeout: number;
  startPeriod: number;
  startInterval: number;
  retries: number;
}
export interface ShellInstruction extends Base {
  kind: "SHELL";
  shell: string[];
}
export interface OnbuildInstruction extends Base {
  kind: "ONBUILD";
  /** The trigger as stored in the image config (`RUN echo hi`; heredoc bodies appended). */
  expression: string;
  /** The trigger parsed as an instruction, when it parses. */
  trigger?: Instruction;
}
export interface MaintainerInstruction extends Base {
  kind: "MAINTAINER";
  maintainer: string;
}

export type Instruction =
  | FromInstruction
  | RunInstruction
  | CmdInstruction
  | EntrypointInstruction
  | CopyInstruction
  | EnvInstruction
  | LabelInstruction
  | ArgInstruction
  | WorkdirInstruction
  | UserInstruction
  | ExposeInstruction
  | VolumeInstruction
  | StopSignalInstruction
  | HealthcheckInstruction
  | ShellInstruction
  | OnbuildInstruction
  | MaintainerInstruction;

export type InstructionKind = Instruction["kind"];

export const INSTRUCTION_NAMES: InstructionKind[] = [
  "ADD",
  "ARG",
  "CMD",
  "COPY",
  "ENTRYPOINT",
  "ENV",
  "EXPOSE",
  "FROM",
  "HEALTHCHECK",
  "LABEL",
  "MAINTAINER",
  "ONBUILD",
  "RUN",
  "SHELL",
  "STOPSIGNAL",
  "USER",
  "VOLUME",
  "WORKDIR",
];

const errAtLeastOne = (c: string) => new InstructionError(`${c} requires at least one argument`);
const errExactlyOne = (c: string) => new InstructionError(`${c} requires exactly one argument`);
const errNoDest = (c: string) =>
  new InstructionError(
    `${c} requires at least two arguments, but only one was provided. Destination could not be determined`,
  );

/** BuildKit's nodeArgs: the arguments, with ONBUILD's trigger flattened in. */
function nodeArgs(node: Node): string[] {
  if (node.sub) return [node.sub.cmd, ...nodeArgs(node.sub)];
  return node.args;
}

function flags(node: Node, defs: Record<string, FlagType>): FlagValues {
  return parseFlags(node.flags, defs);
}

function commandLine(node: Node, args: string[], emptyAsNil: boolean): CommandLine {
  let command: string[] = args.length === 0 ? [] : node.json ? args : [args.join(" ")];
  if (emptyAsNil && command.length === 0) command = [];
  return {
    command,
    shell: !node.json,
    files: node.heredocs.map((h) => ({ name: h.name, data: h.content, chomp: h.chomp, expand: h.expand })),
  };
}

function kvps(args: string[], name: string): KeyValue[] {
  if (args.length === 0) throw errAtLeastOne(name);
  if (args.length % 3 !== 0) throw new InstructionError(`Bad input to ${name}, too many arguments`);
  const out: KeyValue[] = [];
  for (let j = 0; j < args.length; j += 3) {
    if (args[j].length === 0) throw new InstructionError(`${name} names can not be blank`);
    const kv: KeyValue = { key: args[j], value: args[j + 1] };
    if (args[j + 2] === "") kv.legacy = true;
    out.push(kv);
  }
  return out;
}

function parseDuration(s: string, flag: string): number {
  if (s === "") return 0;
  // Go's time.ParseDuration
  const re = /^([+-])?((?:\d+(?:\.\d*)?|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h))+$/;
  if (s === "0") return 0;
  if (!re.test(s)) throw new InstructionError(`time: invalid duration ${JSON.stringify(s)}`);
  const unit: Record<string, number> = {
    ns: 1,
    us: 1e3,
    µs: 1e3,
    μs: 1e3,
    ms: 1e6,
    s: 1e9,
    m: 60e9,
    h: 3600e9,
  };
  let total = 0;
  const neg = s.startsWith("-");
  for (const m of s.replace(/^[+-]/, "").matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)/g)) {
    total += Number(m[1]) * unit[m[2]];
  }
  if (neg) total = -total;
  if (total === 0) return 0;
  if (total < 1e6) throw new InstructionError(`Interval ${JSON.stringify(flag)} cannot be less than 1ms`);
  return Math.round(total);
}

function sourcesAndDest(node: Node, args: string[], name: string) {
  const srcs = args.slice(0, -1);
  const dest = args[args.length - 1];
  if (parseHeredocSafe(dest)) throw new InstructionError(`${name} cannot accept a heredoc as a destination`);
  const byName = new Map<string, Heredoc>();
  for (const h of node.heredocs) byName.set(h.name, h);
  const sources: string[] = [];
  const contents: SourceContent[] = [];
  for (const s of srcs) {
    const h = node.json ? null : parseHeredocSafe(s);
    if (h) {
      let data = byName.get(h.name)?.content ?? "";
      if (h.chomp) data = chompHeredoc(data);
      contents.push({ path: h.name, data, expand: h.expand });
    } else sources.push(s);
  }
  return { sources, contents, dest };
}

function parseHeredocSafe(word: string) {
  try {
    return parseHeredocWord(word);
  } catch {
    return null;
  }
}

const STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;
/** `RUN --network=` and `--security=` values BuildKit accepts. */
const RUN_NETWORKS = ["default", "none", "host"];
const RUN_SECURITY = ["sandbox", "insecure"];

function notJSON(command: string, original: string): InstructionError {
  let extra = "";
  const o = original
    .toLowerCase()
    .split(command.toLowerCase() + " ")
    .join("");
  if (/"[a-z]:\\/.test(o) && !o.includes("\\\\") && o.includes("[") && o.includes("]")) {
    extra = `. It looks like '${o}' includes a file path without an escaped back-slash. JSON requires back-slashes to be escaped such as ["c:\\\\path\\\\to\\\\file.exe", "/action"].`;
  }
  return new InstructionError(`${command} requires the arguments to be in JSON form${extra}`);
}

/**
 * One node → one typed instruction. Throws InstructionError with BuildKit's message.
 * `stage` is recorded on the instruction (-1 before the first FROM).
 */
export function parseInstruction(node: Node, stage = -1): Instruction {
  const args = nodeArgs(node);
  switch (node.keyword) {
    case "ENV": {
      flags(node, {});
      return { node, range: node.range, stage, kind: "ENV", pairs: kvps(args, "ENV") };
    }
    case "LABEL": {
      flags(node, {});
      return { node, range: node.range, stage, kind: "LABEL", pairs: kvps(args, "LABEL") };
    }
    case "MAINTAINER": {
      if (args.length !== 1) throw errExactlyOne("MAINTAINER");
      flags(node, {});
      return { node, range: node.range, stage, kind: "MAINTAINER", maintainer: args[0] };
    }
    case "ADD":
    case "COPY": {
      const name = node.keyword;
      if (args.length < 2) throw errNoDest(name);
      const defs: Record<string, FlagType> =
        name === "COPY"
          ? {
              chown: "string",
              from: "string",
              chmod: "string",
              link: "bool",
              parents: "bool",
              exclude: "strings",
            }
          : {
              chown: "string",
              chmod: "string",
              link: "bool",
              "keep-git-dir": "bool",
              checksum: "string",
              exclude: "strings",
              unpack: "bool",
            };
      const f = flags(node, defs);
      const sd = sourcesAndDest(node, args, name);
      const c: CopyInstruction = {
        node,
        range: node.range,
        stage,
        kind: name,
        ...sd,
        link: f.bool("link"),
        exclude: f.all("exclude"),
        parents: name === "COPY" && f.bool("parents"),
        keepGitDir: name === "ADD" && f.bool("keep-git-dir"),
      };
      const from = f.get("from");
      if (from !== undefined) c.from = from;
      const chown = f.get("chown");
      if (chown !== undefined) c.chown = chown;
      const chmod = f.get("chmod");
      if (chmod !== undefined) c.chmod = chmod;
      const checksum = f.get("checksum");
      if (checksum !== undefined) c.checksum = checksum;
      if (f.get("unpack") !== undefined) c.unpack = f.bool("unpack");
      return c;
    }
    case "FROM": {
      let stageName: string | undefined;
      if (args.length === 3 && args[1].toLowerCase() === "as") {
        stageName = args[2].toLowerCase();
        if (!STAGE_NAME.test(stageName)) {
          throw new InstructionError(
            `invalid name for build stage: ${JSON.stringify(args[2])}, name can't start with a number or contain symbols`,
          );
        }
      } else if (args.length !== 1) throw new InstructionError("FROM requires either one or three arguments");
      const f = flags(node, { platform: "string" });
      const fr: FromInstruction = { node, range: node.range, stage, kind: "FROM", image: args[0] };
      if (stageName !== undefined) {
        fr.name = stageName;
        fr.nameAsWritten = args[2];
      }
      const p = f.get("platform");
      if (p !== undefined && p !== "") fr.platform = p;
      return fr;
    }
    case "ONBUILD": {
      if (args.length === 0) throw errAtLeastOne("ONBUILD");
      flags(node, {});
      const trig = args[0].trim().toUpperCase();
      if (trig === "ONBUILD")
        throw new InstructionError("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
      if (trig === "MAINTAINER" || trig === "FROM") {
        throw new InstructionError(`${trig} isn't allowed as an ONBUILD trigger`);
      }
      let expression = node.original.replace(/^\s*ONBUILD\s*/i, "");
      for (const h of node.heredocs) expression += "\n" + h.content + h.name;
      const o: OnbuildInstruction = { node, range: node.range, stage, kind: "ONBUILD", expression };
      if (node.sub) {
        try {
          o.trigger = parseInstruction({ ...node.sub, heredocs: node.heredocs }, stage);
        } catch {
          // BuildKit checks the trigger only when the image is used as a base
        }
      }
      return o;
    }
    case "WORKDIR": {
      if (args.length !== 1) throw errExactlyOne("WORKDIR");
      flags(node, {});
      return { node, range: node.range, stage, kind: "WORKDIR", path: args[0] };
    }
    case "RUN": {
      const f = flags(node, { mount: "strings", network: "string", security: "string" });
      const mounts: Mount[] = [];
      for (const raw of f.all("mount")) {
        parseMount(raw); // the checks BuildKit makes before expansion
        let m: Mount;
        try {
          m = parseMount(raw, (w) => w);
        } catch {
          m = { type: "bind", readOnly: true, raw };
        }
        mounts.push(m);
      }
      const r: RunInstruction = {
        node,
        range: node.range,
        stage,
        kind: "RUN",
        ...commandLine(node, args, false),
        mounts,
        flagsUsed: f.used,
      };
      const net = f.get("network");
      if (net !== undefined) {
        if (!RUN_NETWORKS.includes(net))
          throw new InstructionError(`network mode ${JSON.stringify(net)} not supported by buildkit`);
        r.network = net;
      }
      const sec = f.get("security");
      if (sec !== undefined) {
        if (!RUN_SECURITY.includes(sec))
          throw new InstructionError(`security mode ${JSON.stringify(sec)} not supported by buildkit`);
        r.security = sec;
      }
      return r;
    }
    case "CMD": {
      flags(node, {});
      return { node, range: node.range, stage, kind: "CMD", ...commandLine(node, args, false) };
    }
    case "ENTRYPOINT": {
      flags(node, {});
      return { node, range: node.range, stage, kind: "ENTRYPOINT", ...commandLine(node, args, true) };
    }
    case "HEALTHCHECK": {
      if (args.length === 0) throw errAtLeastOne("HEALTHCHECK");
      let typ = args[0].toUpperCase();
      const rest = args.slice(1);
      const h: HealthcheckInstruction = {
        node,
        range: node.range,
        stage,
        kind: "HEALTHCHECK",
        test: [],
        interval: 0,
        timeout: 0,
        startPeriod: 0,
        startInterval: 0,
        retries: 0,
      };
      if (typ === "NONE") {
        if (rest.length !== 0) throw new InstructionError("HEALTHCHECK NONE takes no arguments");
        h.test = ["NONE"];
        return h;
      }
      const f = flags(node, {
        interval: "string",
        timeout: "string",
        "start-period": "string",
        "start-interval": "string",
        retries: "string",
      });
      if (typ !== "CMD")
        throw new InstructionError(`Unknown type ${JSON.stringify(typ)} in HEALTHCHECK (try CMD)`);
      const cmd = rest.length === 0 ? [] : node.json ? rest : [rest.join(" ")];
      if (cmd.length === 0) throw new InstructionError("Missing command after HEALTHCHECK CMD");
      if (!node.json) typ = "CMD-SHELL";
      h.test = [typ, ...cmd];
      h.interval = parseDuration(f.get("interval") ?? "", "interval");
      h.timeout = parseDuration(f.get("timeout") ?? "", "timeout");
      h.startPeriod = parseDuration(f.get("start-period") ?? "", "start-period");
      h.startInterval = parseDuration(f.get("start-interval") ?? "", "start-interval");
      const r = f.get("retries");
      if (r !== undefined && r !== "") {
        if (!/^[+-]?\d+$/.test(r) || Math.abs(Number(r)) > 2 ** 31 - 1) {
          throw new InstructionError(`strconv.ParseInt: parsing ${JSON.stringify(r)}: invalid syntax`);
        }
        const n = Number(r);
        if (n < 0) throw new InstructionError(`--retries cannot be negative (${n})`);
        h.retries = n;
      }
      return h;
    }
    case "EXPOSE": {
      if (args.length === 0) throw errAtLeastOne("EXPOSE");
      flags(node, {});
      return { node, range: node.range, stage, kind: "EXPOSE", ports: [...args] };
    }
    case "USER": {
      if (args.length !== 1) throw errExactlyOne("USER");
      flags(node, {});
      return { node, range: node.range, stage, kind: "USER", user: args[0] };
    }
    case "VOLUME": {
      flags(node, {});
      if (args.length === 0) throw errAtLeastOne("VOLUME");
      for (const v of args) {
        if (v.trim() === "") throw new InstructionError("VOLUME specified can not be an empty string");
      }
      return { node, range: node.range, stage, kind: "VOLUME", volumes: [...args] };
    }
    case "STOPSIGNAL": {
      if (args.length !== 1) throw errExactlyOne("STOPSIGNAL");
      flags(node, {});
      return { node, range: node.range, stage, kind: "STOPSIGNAL", signal: args[0] };
    }
    case "ARG": {
      if (args.length < 1) throw errAtLeastOne("ARG");
      flags(node, {});
      const out: { key: string; value?: string }[] = [];
      for (const a of args) {
        const eq = a.indexOf("=");
        if (eq >= 0) {
          if (eq === 0) throw new InstructionError("ARG names can not be blank");
          out.push({ key: a.slice(0, eq), value: a.slice(eq + 1) });
        } else out.push({ key: a });
      }
      return { node, range: node.range, stage, kind: "ARG", args: out };
    }
    case "SHELL": {
      flags(node, {});
      const sh = args.length === 0 ? [] : node.json ? args : [args.join(" ")];
      if (sh.length === 0) throw errAtLeastOne("SHELL");
      if (!node.json) throw notJSON("SHELL", node.original);
      return { node, range: node.range, stage, kind: "SHELL", shell: sh };
    }
  }
  const s = suggest(node.cmd, INSTRUCTION_NAMES, false);
  throw new InstructionError(`unknown instruction: ${node.cmd}${s ? ` (did you mean ${s}?)` : ""}`);
}

export interface Stage {
  index: number;
  /** Lower-cased stage name (`AS name`). */
  name?: string;
  from: FromInstruction;
  /** The stage's instructions after FROM. */
  commands: Instruction[];
  range: Range;
}

export interface DockerfileModel {
  parse: ParseResult;
  /** ARG instructions before the first FROM. */
  metaArgs: ArgInstruction[];
  stages: Stage[];
  /** Every instruction that parsed, in file order. */
  instructions: Instruction[];
  /** Parser errors, then instruction errors (each with the instruction's range). */
  errors: ParseError[];
}

/** Typed instructions and stages from a parse; errors collected, never thrown. */
export function buildInstructions(parse: ParseResult): DockerfileModel {
  const model: DockerfileModel = {
    parse,
    metaArgs: [],
    stages: [],
    instructions: [],
    errors: [...parse.errors],
  };
  for (const node of parse.nodes) {
    if (node.error) continue; // already reported by the parser
    let ins: Instruction;
    try {
      ins = parseInstruction(node, model.stages.length - 1);
    } catch (e) {
      if (!(e instanceof InstructionError)) throw e;
      model.errors.push({ message: e.message, range: node.range });
      continue;
    }
    if (ins.kind === "FROM") {
      ins.stage = model.stages.length;
      const st: Stage = { index: model.stages.length, from: ins, commands: [], range: { ...ins.range } };
      if (ins.name) st.name = ins.name;
      model.stages.push(st);
    } else if (model.stages.length === 0) {
      if (ins.kind === "ARG") model.metaArgs.push(ins);
      else {
        model.errors.push({ message: "no build stage in current context", range: node.range });
        continue;
      }
    } else {
      const st = model.stages[model.stages.length - 1];
      st.commands.push(ins);
      st.range = { start: st.range.start, end: ins.range.end };
    }
    model.instructions.push(ins);
  }
  return model;
}
