import { test } from "node:test";
import assert from "node:assert/strict";
import { buildInstructions, parseDockerfile, parseMount } from "../../src/dockerfile/index.js";
import type { Instruction } from "../../src/dockerfile/index.js";

function model(src: string) {
  return buildInstructions(parseDockerfile(src));
}
function only(src: string): Instruction {
  const m = model("FROM scratch\n" + src + "\n");
  assert.deepEqual(m.errors, [], JSON.stringify(m.errors));
  return m.instructions[1];
}
function errorOf(src: string, pre = "FROM scratch\n"): { message: string; line: number; column: number } {
  const m = model(pre + src + "\n");
  assert.ok(m.errors.length > 0, `expected an error for ${JSON.stringify(src)}`);
  return {
    message: m.errors[0].message,
    line: m.errors[0].range.start.line,
    column: m.errors[0].range.start.column,
  };
}

test("FROM: platform, AS name (case-insensitive, lower-cased)", () => {
  const m = model("FROM --platform=$BUILDPLATFORM golang:1.22 AS Build\nFROM scratch\n");
  assert.deepEqual(m.errors, []);
  const f = m.stages[0].from;
  assert.equal(f.image, "golang:1.22");
  assert.equal(f.name, "build");
  assert.equal(f.nameAsWritten, "Build");
  assert.equal(f.platform, "$BUILDPLATFORM");
  assert.equal(m.stages.length, 2);
  assert.equal(m.stages[1].name, undefined);
});

test("FROM errors name the line", () => {
  assert.deepEqual(errorOf("  FROM img AS name --platform=$BUILDPLATFORM"), {
    message: "FROM requires either one or three arguments",
    line: 2,
    column: 3,
  });
  assert.equal(errorOf("FROM a b").message, "FROM requires either one or three arguments");
  assert.equal(
    errorOf("FROM a AS 1st").message,
    `invalid name for build stage: "1st", name can't start with a number or contain symbols`,
  );
  assert.equal(errorOf("FROM --plat=x a").message, "unknown flag: plat");
});

test("unknown instructions, with suggestions", () => {
  assert.equal(errorOf("FOOBAR unknown").message, "unknown instruction: FOOBAR");
  assert.equal(errorOf("FRM alpine").message, "unknown instruction: FRM (did you mean from?)");
  assert.equal(errorOf("cpy a b").message, "unknown instruction: cpy (did you mean copy?)");
  const m = model("FROM a\nRUN echo a `\n    b\n");
  assert.equal(m.errors[0].message, "unknown instruction: b");
  assert.equal(m.errors[0].range.start.line, 3);
});

test("an instruction before FROM other than ARG", () => {
  assert.deepEqual(errorOf("RUN x", ""), {
    message: "no build stage in current context",
    line: 1,
    column: 1,
  });
  const m = model("ARG A=1\nARG B\nFROM a\n");
  assert.deepEqual(
    m.metaArgs.map((a) => a.args),
    [[{ key: "A", value: "1" }], [{ key: "B" }]],
  );
});

test("RUN: shell/exec form, mounts, network, security, heredoc files", () => {
  const r = only(
    "RUN --mount=type=cache,target=/root/.cache,sharing=locked,id=pip --mount=type=secret,id=tok,required --network=none --security=insecure pip install x",
  );
  assert.equal(r.kind, "RUN");
  if (r.kind !== "RUN") return;
  assert.deepEqual(r.command, ["pip install x"]);
  assert.equal(r.shell, true);
  assert.equal(r.network, "none");
  assert.equal(r.security, "insecure");
  assert.deepEqual(
    r.mounts.map((m) => [m.type, m.target, m.sharing, m.id, m.readOnly, m.required]),
    [
      ["cache", "/root/.cache", "locked", "pip", false, undefined],
      ["secret", undefined, undefined, "tok", true, true],
    ],
  );
  assert.deepEqual(r.flagsUsed, ["mount", "network", "security"]);
  const e = only('RUN ["echo", "hi"]');
  assert.ok(e.kind === "RUN" && !e.shell && e.command.length === 2);
  const h = only("RUN <<EOF\necho hi\nEOF");
  assert.ok(h.kind === "RUN");
  if (h.kind === "RUN")
    assert.deepEqual(h.files, [{ name: "EOF", data: "echo hi\n", chomp: false, expand: true }]);
  assert.equal(
    errorOf("RUN --mount=type=bind,from=$X x").message,
    "'from' doesn't support variable expansion, define alias stage instead",
  );
  assert.equal(errorOf("RUN --foo x").message, "unknown flag: foo");
  assert.equal(errorOf("RUN --mout=type=cache x").message, "unknown flag: mout (did you mean mount?)");
});

test("mount parsing and validation (expanded)", () => {
  const id = (w: string) => w;
  const b = parseMount("type=bind,from=build,source=/out,target=/in,rw", id);
  assert.deepEqual([b.type, b.from, b.source, b.target, b.readOnly], ["bind", "build", "/out", "/in", false]);
  assert.equal(parseMount("target=/x", id).readOnly, true);
  const t = parseMount("type=tmpfs,target=/t,size=64m", id);
  assert.equal(t.size, 64 * 1024 * 1024);
  const c = parseMount("type=cache,target=/c,mode=0755,uid=1000,gid=1000", id);
  assert.deepEqual([c.mode, c.uid, c.gid], [0o755, 1000, 1000]);
  const q = parseMount('type=bind,"source=a,b",target=/c', id);
  assert.equal(q.source, "a,b");
  const bad: [string, string][] = [
    ["type=nfs,target=/x", 'unsupported mount type "nfs"'],
    ["type=cahce,target=/x", 'unsupported mount type "cahce" (did you mean cache?)'],
    ["type=bind,sharing=locked,target=/x", "invalid cache sharing set for bind mount"],
    ["type=cache,sharing=everyone,target=/x", 'unsupported sharing value "everyone"'],
    ["type=bind,required,target=/x", "unexpected key 'required' for mount type 'bind'"],
    ["type=cache,size=1m,target=/x", "unexpected key 'size' for mount type 'cache'"],
    ["type=cache,mode=999,target=/x", "invalid value 999 for mode"],
    ["type=cache,target=/x,color=red", "unexpected key 'color' in 'color=red'"],
    ["type=cache,target=/x,ro=maybe", "invalid value for ro: maybe"],
    ["type=cache,target", "invalid field 'target' must be a key=value pair"],
    ["type=secret", "invalid secret mount. one of source, target required"],
    ["type=secret,id=a,source=b", "both source and id can't be set"],
    ["type=secret,id=a,from=b", "secret mount should not have a from"],
  ];
  for (const [v, msg] of bad) assert.throws(() => parseMount(v, id), { message: msg }, v);
  assert.throws(() => parseMount('type=bind,sou"rce=x', id), /bare " in non-quoted-field/);
});

test("COPY/ADD flags and heredoc sources", () => {
  const c = only(
    "COPY --from=build --chown=1:1 --chmod=755 --link --parents --exclude=*.md --exclude=*.txt a b /dst/",
  );
  assert.ok(c.kind === "COPY");
  if (c.kind !== "COPY") return;
  assert.deepEqual(
    [c.from, c.chown, c.chmod, c.link, c.parents, c.exclude, c.sources, c.dest],
    ["build", "1:1", "755", true, true, ["*.md", "*.txt"], ["a", "b"], "/dst/"],
  );
  const a = only("ADD --checksum=sha256:abc --keep-git-dir=true --link=false https://x/y.tgz /x/");
  assert.ok(a.kind === "ADD");
  if (a.kind === "ADD") assert.deepEqual([a.checksum, a.keepGitDir, a.link], ["sha256:abc", true, false]);
  const h = only('COPY <<-EOF <<"RAW" /dst/\n\tchomped\n\tEOF\n$X\nRAW');
  assert.ok(h.kind === "COPY");
  if (h.kind === "COPY") {
    assert.deepEqual(h.contents, [
      { path: "EOF", data: "chomped\n", expand: true },
      { path: "RAW", data: "$X\n", expand: false },
    ]);
    assert.deepEqual(h.sources, []);
  }
  const j = only('COPY ["a b", "/c d/"]');
  assert.ok(j.kind === "COPY" && j.sources[0] === "a b" && j.dest === "/c d/");
  assert.equal(
    errorOf("COPY onlyone").message,
    "COPY requires at least two arguments, but only one was provided. Destination could not be determined",
  );
  assert.equal(errorOf("COPY --checksum=x a b").message, "unknown flag: checksum");
  assert.equal(errorOf("ADD --parents a b").message, "unknown flag: parents");
  assert.equal(errorOf("COPY --fromm=x a b").message, "unknown flag: fromm (did you mean from?)");
  assert.equal(errorOf("COPY --from a b").message, "missing a value on flag: from");
  assert.equal(errorOf("COPY --link=maybe a b").message, "expecting boolean value for flag link, not: maybe");
  assert.equal(errorOf("COPY --link= a b").message, "missing a value on flag: link");
  assert.equal(errorOf("COPY --chown=1 --chown=2 a b").message, "duplicate flag specified: chown");
  assert.equal(errorOf("COPY a <<EOF\nx\nEOF").message, "COPY cannot accept a heredoc as a destination");
});

test("ENV/LABEL pairs, legacy form; ARG names and defaults", () => {
  const e = only('ENV A=1 B="two words" C=a\\ b');
  assert.ok(e.kind === "ENV");
  if (e.kind === "ENV") {
    assert.deepEqual(e.pairs, [
      { key: "A", value: "1" },
      { key: "B", value: '"two words"' },
      { key: "C", value: "a\\ b" },
    ]);
  }
  const l = only("ENV LEGACY value with spaces");
  assert.ok(l.kind === "ENV");
  if (l.kind === "ENV")
    assert.deepEqual(l.pairs, [{ key: "LEGACY", value: "value with spaces", legacy: true }]);
  const lab = only('LABEL "com.example"="ACME" version=1');
  assert.ok(lab.kind === "LABEL" && lab.pairs.length === 2);
  const a = only("ARG A B=2 C=");
  assert.ok(a.kind === "ARG");
  if (a.kind === "ARG")
    assert.deepEqual(a.args, [{ key: "A" }, { key: "B", value: "2" }, { key: "C", value: "" }]);
  assert.equal(errorOf("ENV").message, "ENV requires at least one argument");
  assert.equal(errorOf("LABEL").message, "LABEL requires at least one argument");
  assert.equal(errorOf("ENV NOVALUE").message, "ENV must have two arguments");
  assert.equal(errorOf("ARG =x").message, "ARG names can not be blank");
  assert.equal(errorOf("ARG").message, "ARG requires at least one argument");
  assert.equal(errorOf("ENV =x").message, "ENV names can not be blank");
});

test("single-argument instructions and their counts", () => {
  const w = only("WORKDIR /app");
  assert.ok(w.kind === "WORKDIR" && w.path === "/app");
  const u = only("USER 1000:1000");
  assert.ok(u.kind === "USER" && u.user === "1000:1000");
  const s = only("STOPSIGNAL SIGTERM");
  assert.ok(s.kind === "STOPSIGNAL" && s.signal === "SIGTERM");
  const m = only("MAINTAINER someone@example.com");
  assert.ok(m.kind === "MAINTAINER" && m.maintainer === "someone@example.com");
  for (const k of ["WORKDIR", "USER", "STOPSIGNAL", "MAINTAINER"]) {
    assert.equal(errorOf(k).message, `${k} requires exactly one argument`);
  }
  assert.equal(errorOf("WORKDIR --x=1 /a").message, "unknown flag: x");
});

test("EXPOSE, VOLUME (JSON or words), SHELL (JSON only), CMD/ENTRYPOINT", () => {
  const e = only("EXPOSE 80/tcp 443 8080-8090/udp");
  assert.ok(e.kind === "EXPOSE");
  if (e.kind === "EXPOSE") assert.deepEqual(e.ports, ["80/tcp", "443", "8080-8090/udp"]);
  const v1 = only('VOLUME ["/data", "/logs"]');
  const v2 = only("VOLUME /a /b");
  assert.ok(v1.kind === "VOLUME" && v2.kind === "VOLUME");
  if (v1.kind === "VOLUME" && v2.kind === "VOLUME") {
    assert.deepEqual(v1.volumes, ["/data", "/logs"]);
    assert.deepEqual(v2.volumes, ["/a", "/b"]);
  }
  assert.equal(errorOf('VOLUME ["/a", ""]').message, "VOLUME specified can not be an empty string");
  assert.equal(errorOf("EXPOSE").message, "EXPOSE requires at least one argument");
  const sh = only('SHELL ["/bin/bash", "-o", "pipefail", "-c"]');
  assert.ok(sh.kind === "SHELL" && sh.shell.length === 4);
  assert.equal(errorOf("SHELL /bin/sh -c").message, "SHELL requires the arguments to be in JSON form");
  assert.equal(errorOf("SHELL []").message, "SHELL requires at least one argument");
  const c = only("CMD echo hi");
  assert.ok(c.kind === "CMD" && c.shell && c.command[0] === "echo hi");
  const en = only('ENTRYPOINT ["/bin/sh", "-c"]');
  assert.ok(en.kind === "ENTRYPOINT" && !en.shell && en.command.length === 2);
  assert.equal(errorOf("CMD --x echo").message, "unknown flag: x");
});

test("HEALTHCHECK: NONE, CMD shell/exec, options and their errors", () => {
  const h = only(
    "HEALTHCHECK --interval=5s --timeout=1m30s --start-period=1.5s --retries=3 CMD curl -f http://x/ || exit 1",
  );
  assert.ok(h.kind === "HEALTHCHECK");
  if (h.kind === "HEALTHCHECK") {
    assert.deepEqual(h.test, ["CMD-SHELL", "curl -f http://x/ || exit 1"]);
    assert.deepEqual([h.interval, h.timeout, h.startPeriod, h.retries], [5e9, 90e9, 1.5e9, 3]);
  }
  const j = only('HEALTHCHECK CMD ["curl", "-f", "http://x/"]');
  assert.ok(j.kind === "HEALTHCHECK" && j.test.join(" ") === "CMD curl -f http://x/");
  const n = only("HEALTHCHECK NONE");
  assert.ok(n.kind === "HEALTHCHECK" && n.test[0] === "NONE");
  assert.equal(errorOf("HEALTHCHECK NONE x").message, "HEALTHCHECK NONE takes no arguments");
  assert.equal(errorOf("HEALTHCHECK FOO x").message, 'Unknown type "FOO" in HEALTHCHECK (try CMD)');
  assert.equal(errorOf("HEALTHCHECK CMD").message, "Missing command after HEALTHCHECK CMD");
  assert.equal(errorOf("HEALTHCHECK --interval=5 CMD x").message, 'time: invalid duration "5"');
  assert.equal(
    errorOf("HEALTHCHECK --interval=1us CMD x").message,
    'Interval "interval" cannot be less than 1ms',
  );
  assert.equal(errorOf("HEALTHCHECK --retries=-1 CMD x").message, "--retries cannot be negative (-1)");
  assert.equal(errorOf("HEALTHCHECK --bogus=1 CMD x").message, "unknown flag: bogus");
  assert.equal(errorOf("HEALTHCHECK").message, "HEALTHCHECK requires at least one argument");
});

test("ONBUILD: trigger parsed, forbidden triggers", () => {
  const o = only("ONBUILD COPY --chown=1:1 . /app");
  assert.ok(o.kind === "ONBUILD");
  if (o.kind === "ONBUILD") {
    assert.equal(o.expression, "COPY --chown=1:1 . /app");
    assert.ok(o.trigger?.kind === "COPY" && o.trigger.chown === "1:1");
  }
  const h = only("ONBUILD RUN <<EOF\necho hi\nEOF");
  assert.ok(h.kind === "ONBUILD" && h.expression === "RUN <<EOF\necho hi\nEOF");
  assert.equal(
    errorOf("ONBUILD ONBUILD RUN x").message,
    "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed",
  );
  assert.equal(errorOf("ONBUILD FROM x").message, "FROM isn't allowed as an ONBUILD trigger");
  assert.equal(errorOf("ONBUILD maintainer x").message, "MAINTAINER isn't allowed as an ONBUILD trigger");
  assert.equal(errorOf("ONBUILD").message, "ONBUILD requires at least one argument");
});

test("every fixture the parser accepts but BuildKit's instruction layer rejects is rejected", () => {
  assert.equal(
    errorOf("FROM img AS name --platform=$BUILDPLATFORM", "").message,
    "FROM requires either one or three arguments",
  );
  assert.equal(errorOf("FOOBAR unknown instruction").message, "unknown instruction: FOOBAR");
});
