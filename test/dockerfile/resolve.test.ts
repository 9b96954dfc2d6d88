import { test } from "node:test";
import assert from "node:assert/strict";
import { loadDockerfile } from "../../src/dockerfile/index.js";
import type { ResolveOptions } from "../../src/dockerfile/index.js";

const P = { buildPlatform: "linux/amd64", targetPlatform: "linux/arm64" };
function load(src: string, opts: ResolveOptions = {}) {
  return loadDockerfile(src, { ...P, ...opts }).resolved;
}

test("global ARGs and predefined platform ARGs expand FROM", () => {
  const src =
    "ARG BASE=alpine\nARG TAG\nFROM ${BASE}:${TAG:-3.20} AS base\nFROM --platform=$BUILDPLATFORM golang:$TARGETARCH\n";
  let r = load(src);
  assert.equal(r.stages[0].baseName, "alpine:3.20");
  assert.equal(r.stages[1].baseName, "golang:arm64");
  assert.equal(r.stages[1].platform, "linux/amd64");
  assert.deepEqual(r.stages[0].fromUnmatched, ["TAG"]);
  r = load(src, { buildArgs: { TAG: "edge", BASE: "debian" } });
  assert.equal(r.stages[0].baseName, "debian:edge");
  assert.equal(r.globalArgs.get("TARGETOS"), "linux");
  assert.equal(r.globalArgs.get("TARGETVARIANT"), "");
});

test("fixture 28: empty registry prefix", () => {
  const src =
    "ARG BASE_REGISTRY=\nARG BASE_IMAGE=alpine\nARG BASE_TAG=latest\nFROM ${BASE_REGISTRY:-}${BASE_REGISTRY:+/}${BASE_IMAGE}:${BASE_TAG}\n";
  assert.equal(load(src).stages[0].baseName, "alpine:latest");
  assert.equal(
    load(src, { buildArgs: { BASE_REGISTRY: "reg.local" } }).stages[0].baseName,
    "reg.local/alpine:latest",
  );
});

test("a global ARG is visible in a stage only after ARG NAME re-declares it", () => {
  const src = "ARG V=1\nFROM a\nENV X=$V\nARG V\nENV Y=$V\n";
  const r = load(src);
  assert.deepEqual(r.errors, []);
  const [env1, arg, env2] = r.stages[0].instructions;
  assert.ok(env1.expanded.kind === "ENV" && env1.expanded.pairs[0].value === "");
  assert.deepEqual(env1.unmatched, ["V"]);
  assert.ok(arg.expanded.kind === "ARG" && arg.expanded.args[0].value === "1");
  assert.ok(env2.expanded.kind === "ENV" && env2.expanded.pairs[0].value === "1");
  assert.equal(r.stages[0].env.get("Y"), "1");
  // a build arg overrides the global default in the stage as well
  const o = load(src, { buildArgs: { V: "9" } });
  assert.equal(o.stages[0].env.get("Y"), "9");
});

test("predefined platform ARGs inside a stage need ARG; ARG defaults; build args override", () => {
  const src =
    "FROM a\nRUN echo $TARGETARCH\nARG TARGETARCH\nARG N=5\nARG M=${N}0\nENV A=$TARGETARCH B=$N C=$M\n";
  const r = load(src, { buildArgs: { N: "7" } });
  assert.deepEqual(r.errors, []);
  assert.equal(r.stages[0].env.get("A"), "arm64");
  assert.equal(r.stages[0].env.get("B"), "7");
  assert.equal(r.stages[0].env.get("C"), "70");
  assert.equal(r.stages[0].instructions[0].env.has("TARGETARCH"), false);
  assert.equal(r.stages[0].instructions[4].env.get("TARGETARCH"), "arm64");
});

test("ENV expands every word with the values from before the instruction", () => {
  const r = load("FROM a\nENV abc=hello\nENV abc=bye def=$abc\nENV ghi=$abc\n");
  assert.equal(r.stages[0].env.get("def"), "hello");
  assert.equal(r.stages[0].env.get("ghi"), "bye");
});

test("which instructions expand: COPY/ADD, LABEL, WORKDIR, USER, EXPOSE, VOLUME, STOPSIGNAL; not RUN/CMD", () => {
  const src = [
    "FROM a",
    "ARG D=/srv U=app P=8080 S=SIGINT F=build",
    'COPY --from=$F --chown=$U:$U "$D/a" ${D}/b/',
    'LABEL "owner"="$U" dir=${D}',
    "WORKDIR $D/w",
    "USER ${U}",
    "EXPOSE $P/tcp",
    "VOLUME $D/data",
    "STOPSIGNAL $S",
    "RUN echo $D",
    "CMD echo $D",
    "",
  ].join("\n");
  const r = load(src);
  const ins = r.stages[0].instructions.map((x) => x.expanded);
  const [, copy, label, wd, user, expose, vol, sig, run, cmd] = ins;
  assert.ok(copy.kind === "COPY");
  if (copy.kind === "COPY")
    assert.deepEqual(
      [copy.from, copy.chown, copy.sources, copy.dest],
      ["build", "app:app", ["/srv/a"], "/srv/b/"],
    );
  assert.ok(label.kind === "LABEL");
  if (label.kind === "LABEL")
    assert.deepEqual(
      label.pairs.map((p) => [p.key, p.value]),
      [
        ["owner", "app"],
        ["dir", "/srv"],
      ],
    );
  assert.ok(wd.kind === "WORKDIR" && wd.path === "/srv/w");
  assert.ok(user.kind === "USER" && user.user === "app");
  assert.ok(expose.kind === "EXPOSE" && expose.ports[0] === "8080/tcp");
  assert.ok(vol.kind === "VOLUME" && vol.volumes[0] === "/srv/data");
  assert.ok(sig.kind === "STOPSIGNAL" && sig.signal === "SIGINT");
  assert.ok(run.kind === "RUN" && run.command[0] === "echo $D");
  assert.ok(cmd.kind === "CMD" && cmd.command[0] === "echo $D");
  // the stage env (for RUN) has the ARG values
  assert.equal(r.stages[0].instructions[9].env.get("D"), "/srv");
});

test("COPY heredocs expand unless the delimiter is quoted; quotes in the body are kept", () => {
  const r = load("FROM a\nARG X=1\nCOPY <<EOF <<'RAW' /d/\nv=$X 'q' \"$X\"\nEOF\nv=$X\nRAW\n");
  const c = r.stages[0].instructions[1].expanded;
  assert.ok(c.kind === "COPY");
  if (c.kind === "COPY") {
    assert.equal(c.contents[0].data, "v=1 'q' \"1\"\n");
    assert.equal(c.contents[1].data, "v=$X\n");
  }
});

test("RUN --mount values are expanded and validated with the stage env", () => {
  const src =
    "FROM a\nARG C=/cache T=cache\nRUN --mount=type=$T,target=$C,id=x-${C} true\nRUN --mount=type=$C true\n";
  const r = load(src);
  const m = r.stages[0].instructions[1].expanded;
  assert.ok(
    m.kind === "RUN" &&
      m.mounts[0].type === "cache" &&
      m.mounts[0].target === "/cache" &&
      m.mounts[0].id === "x-/cache",
  );
  assert.equal(r.errors.length, 1);
  assert.equal(r.errors[0].message, 'unsupported mount type "/cache" (did you mean cache?)');
  assert.equal(r.errors[0].range.start.line, 4);
});

test("expansion errors carry the instruction's line", () => {
  const r = load("FROM a\n\nENV A=${REQUIRED:?set_it}\n");
  assert.equal(r.errors[0].message, 'failed to process "${REQUIRED:?set_it}": REQUIRED: set_it');
  assert.equal(r.errors[0].range.start.line, 3);
  const f = load('ARG IMAGE_NAME="${IMAGE_NAME:?must be set}"\nFROM a\n');
  assert.match(f.errors[0].message, /IMAGE_NAME: must be set/);
  assert.equal(f.errors[0].range.start.line, 1);
});

test("stage graph: FROM <stage>, COPY --from name/index/image, RUN --mount from=, target selection", () => {
  const src = [
    "FROM alpine AS base",
    "FROM base AS build",
    "RUN --mount=type=bind,from=tools,target=/t make",
    "FROM golang AS tools",
    "FROM scratch AS final",
    "COPY --from=build /out /out",
    "COPY --from=0 /etc/os-release /",
    "COPY --from=nginx:latest /etc/nginx /etc/nginx",
    "FROM final AS unused-later",
    "",
  ].join("\n");
  const r = load(src, { target: "final" });
  assert.deepEqual(r.errors, []);
  assert.deepEqual(
    r.stages.map((s) => s.base.type),
    ["image", "stage", "image", "scratch", "stage"],
  );
  assert.equal(r.byName.get("tools"), 2);
  assert.deepEqual(
    r.edges.map((e) => [e.kind, e.from, e.to ?? e.image]),
    [
      ["base", 1, 0],
      ["mount", 1, 2],
      ["copy", 3, 1],
      ["copy", 3, 0],
      ["copy", 3, "nginx:latest"],
      ["base", 4, 3],
    ],
  );
  assert.equal(r.target, 3);
  assert.deepEqual(r.needed, [0, 2, 1, 3]);
  assert.deepEqual(load(src).needed, [0, 2, 1, 3, 4]);
  const miss = load(src, { target: "nope" });
  assert.equal(miss.errors[0].message, 'target stage "nope" could not be found');
});

test("a FROM that expands to nothing is an error", () => {
  const r = load("ARG IMG\nFROM $IMG\n");
  assert.equal(r.errors[0].message, "base name ($IMG) should not be blank");
  assert.equal(load("ARG IMG\nFROM $IMG\n", { buildArgs: { IMG: "alpine" } }).errors.length, 0);
});

test("FROM refers only to earlier stages; later names are images", () => {
  const r = load("FROM later AS first\nFROM alpine AS later\n");
  assert.deepEqual(r.stages[0].base, { type: "image", ref: "later" });
});

test("graph errors: cycles and bad stage indexes", () => {
  const c = load("FROM a AS x\nCOPY --from=y / /\nFROM b AS y\nCOPY --from=x / /\n");
  assert.equal(c.errors[0].message, "circular dependency detected on stage: x");
  const i = load("FROM a\nCOPY --from=3 / /\n");
  assert.equal(i.errors[0].message, "invalid stage index 3");
  assert.equal(i.errors[0].range.start.line, 2);
});

test("base image env from the caller; a child stage inherits the parent's env", () => {
  const r = load("FROM img AS p\nENV A=1\nFROM p\nENV B=$A$PATH\n", {
    imageEnv: (ref) => (ref === "img" ? { PATH: "/bin" } : undefined),
  });
  assert.equal(r.stages[1].env.get("B"), "1/bin");
});

test("unused build args are reported; predefined and proxy args are not", () => {
  const r = load("ARG USED\nFROM a\nARG INSTAGE\n", {
    buildArgs: { USED: "1", INSTAGE: "2", EXTRA: "3", HTTP_PROXY: "x", TARGETARCH: "y" },
  });
  assert.deepEqual(r.unusedBuildArgs, ["EXTRA"]);
  // an ARG in a stage the target does not need does not consume the build arg
  const t = load("FROM a AS one\nARG ONLY_ONE\nFROM b AS two\n", {
    buildArgs: { ONLY_ONE: "1" },
    target: "two",
  });
  assert.deepEqual(t.unusedBuildArgs, ["ONLY_ONE"]);
});

test("escape directive applies to expansion", () => {
  const r = load("# escape=`\nFROM a\nENV P=C:\\dir Q=`$P\n");
  assert.equal(r.stages[0].env.get("P"), "C:\\dir");
  assert.equal(r.stages[0].env.get("Q"), "$P");
});

test("a 5,000-instruction file resolves quickly", () => {
  const lines = ["ARG BASE=alpine", "FROM $BASE AS s0"];
  for (let i = 0; i < 5000; i++) {
    if (i % 500 === 499) lines.push(`FROM s${Math.floor(i / 500)} AS s${Math.floor(i / 500) + 1}`);
    else if (i % 3 === 0) lines.push(`ENV V${i}=x$V${i - 3}`);
    else if (i % 3 === 1) lines.push(`RUN echo ${i} && make -j4 target-${i}`);
    else lines.push(`COPY --chown=1:1 src/${i} /dst/${i}`);
  }
  const t0 = performance.now();
  const r = loadDockerfile(lines.join("\n"), P).resolved;
  const ms = performance.now() - t0;
  assert.deepEqual(r.errors, []);
  assert.equal(r.stages.length, 11);
  assert.ok(ms < 3000, `${ms} ms`);
});
