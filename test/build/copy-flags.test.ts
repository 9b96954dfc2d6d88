// COPY/ADD --exclude, --parents (Dockerfile 1.7 labs) and --link, built natively with runc. Docker
// 20.10's BuildKit knows none of these flags ("Unknown flag"), so the exact trees are asserted here.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { chmod, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { needPeers } from "../helpers/peers.js";
import {
  dockyard,
  ensureBases,
  execFileP,
  removeDir,
  skipWithoutBases,
  tempDir,
  writeContext,
  type Run,
} from "./fixtures.js";

const skipPeers = needPeers("runc");
const BASE = "127.0.0.1:5300/busybox:latest";
let basesProblem: string | undefined;
let work: string;
let home: string;

before(async () => {
  if (skipPeers) return;
  basesProblem = await ensureBases();
  work = await tempDir("dy-bcopy-");
  home = join(work, "home");
});
after(async () => {
  await removeDir(work);
});

const skipped = (t: { skip: (m: string) => void }): boolean => skipWithoutBases(t, basesProblem);

let n = 0;
async function context(dockerfile: string, files: Record<string, string>): Promise<string> {
  return writeContext(join(work, `ctx${n++}`), dockerfile, files);
}

async function build(ctx: string, ...flags: string[]): Promise<Run> {
  return dockyard(home, ["build", "--progress", "plain", ...flags, ctx], 300_000);
}

/** The files under `dirs` of the built image's filesystem: "path mode owner type [target]". */
async function tree(ctx: string, dirs: string[]): Promise<string[]> {
  const out = join(work, `out${n++}`);
  const r = await build(ctx, "-o", `type=local,dest=${out}`);
  assert.equal(r.code, 0, r.stderr);
  const { stdout } = await execFileP("find", [...dirs, "-printf", "%p %m %u %y %l\\n"], { cwd: out });
  return stdout
    .split("\n")
    .filter(Boolean)
    .map((l) => l.trimEnd())
    .sort();
}

test(
  "COPY --exclude: patterns as in .dockerignore, relative to the source; excluded files are not in the key",
  { skip: skipPeers },
  async (t) => {
    if (skipped(t)) return;
    const files = {
      "src/a.go": "a",
      "src/notes.txt": "n",
      "src/pkg/b.go": "b",
      "src/pkg/c.txt": "c",
      "src/pkg/keep.txt": "k",
      "src/vendor/v.go": "v",
      "home.txt": "h",
      "homer.go": "hg",
    };
    const df = `FROM ${BASE}
COPY --exclude=**/*.txt --exclude=!pkg/keep.txt --exclude=vendor src /e1/
COPY --exclude=*.txt hom* /e2/
COPY --exclude=pkg src/ /e3/
`;
    const ctx = await context(df, files);
    assert.deepEqual(await tree(ctx, ["e1", "e2", "e3"]), [
      "e1 755 root d",
      "e1/a.go 644 root f",
      "e1/pkg 755 root d",
      "e1/pkg/b.go 644 root f",
      "e1/pkg/keep.txt 644 root f",
      "e2 755 root d",
      "e2/homer.go 644 root f",
      "e3 755 root d",
      "e3/a.go 644 root f",
      "e3/notes.txt 644 root f",
      "e3/vendor 755 root d",
      "e3/vendor/v.go 644 root f",
    ]);
    // an excluded file changes: the step stays cached; an included one: it reruns
    await writeFile(join(ctx, "src/pkg/c.txt"), "changed");
    const again = await build(ctx);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /COPY --exclude=\*\*\/\*\.txt[^\n]*\n#\d+ CACHED/);
    await writeFile(join(ctx, "src/pkg/b.go"), "changed");
    const edited = await build(ctx);
    assert.match(edited.stderr, /COPY --exclude=\*\*\/\*\.txt[^\n]*\n#\d+ DONE/);
  },
);

test(
  "COPY --parents: parent directories kept (their modes too), the /./ pivot, globs, --from",
  { skip: skipPeers },
  async (t) => {
    if (skipped(t)) return;
    const ctx = await context(
      `FROM ${BASE} AS src
RUN mkdir -p /srv/app/x && echo 1 > /srv/app/x/f && echo 2 > /srv/app/g
FROM ${BASE}
COPY --parents web/*/package.json /p1/
COPY --parents ./src/./pkg/sub /p2/
COPY --parents docs/r.md src/pkg/a.go /p3
COPY --parents --exclude=**/index.js web /p4/
COPY --from=src --parents /srv/./app/x/f /p5/
`,
      {
        "web/a/package.json": "1",
        "web/a/index.js": "2",
        "web/b/package.json": "3",
        "src/pkg/a.go": "4",
        "src/pkg/sub/b.go": "5",
        "docs/r.md": "6",
      },
    );
    await chmod(join(ctx, "web/a"), 0o750);
    assert.deepEqual(await tree(ctx, ["p1", "p2", "p3", "p4", "p5"]), [
      "p1 755 root d",
      "p1/web 755 root d",
      "p1/web/a 750 root d",
      "p1/web/a/package.json 644 root f",
      "p1/web/b 755 root d",
      "p1/web/b/package.json 644 root f",
      "p2 755 root d",
      "p2/pkg 755 root d",
      "p2/pkg/sub 755 root d",
      "p2/pkg/sub/b.go 644 root f",
      "p3 755 root d",
      "p3/docs 755 root d",
      "p3/docs/r.md 644 root f",
      "p3/src 755 root d",
      "p3/src/pkg 755 root d",
      "p3/src/pkg/a.go 644 root f",
      "p4 755 root d",
      "p4/web 755 root d",
      "p4/web/a 750 root d",
      "p4/web/a/package.json 644 root f",
      "p4/web/b 755 root d",
      "p4/web/b/package.json 644 root f",
      "p5 755 root d",
      "p5/app 755 root d",
      "p5/app/x 755 root d",
      "p5/app/x/f 644 root f",
    ]);
  },
);

test(
  "COPY --parents with ** patterns and globbed pivots (BuildKit's include-pattern semantics), context and --from; empty wildcards",
  { skip: skipPeers },
  async (t) => {
    if (skipped(t)) return;
    // the --from cases are BuildKit's testCopyRelativeParents (frontend/dockerfile/dockerfile_parents_test.go)
    const ctx = await context(
      `FROM ${BASE} AS src
RUN mkdir -p /test/a/b/c/d/e /test/a/b2/c/d/e /test/a/b/c2/d/e /test/a/b/c2/d/e2 && \\
    touch /test/a/b/c/d/foo /test/a/b/c/d/e/bay /test/a/b2/c/d/e/bar /test/a/b/c2/d/e/baz /test/a/b/c2/d/e2/baz
FROM ${BASE}
COPY --parents ./src/**/*.go /q1/
COPY --parents ./src/./**/*.go /q2/
COPY --parents s*/./a /q3/
COPY --from=src --parents /test/a/./*/c /f1/
COPY --from=src --parents /test/a/b*/./c/**/e /f2/
COPY --from=src --parents /test/a/b/c*/./d/**/baz /test/a/b*/./c/**/bar /f3/
COPY --parents ./src/**/*.rs /q3/rs/
COPY src/*.rs src/main.go /q4/
COPY --from=src /test/*.rs /q3/rs2/
`,
      {
        "src/main.go": "1",
        "src/x.txt": "2",
        "src/a/b.go": "3",
        "src/a/b.txt": "4",
        "src/a/deep/c.go": "5",
        "other/d.go": "6",
      },
    );
    await chmod(join(ctx, "src/a"), 0o750);
    // wildcards that match nothing copy nothing and create no destination (as the Engine's BuildKit)
    const got = await tree(ctx, ["q1", "q2", "q3", "q4", "f1", "f2", "f3"]);
    assert.deepEqual(got, [
      "f1 755 root d",
      "f1/b 755 root d",
      "f1/b/c 755 root d",
      "f1/b/c/d 755 root d",
      "f1/b/c/d/e 755 root d",
      "f1/b/c/d/e/bay 644 root f",
      "f1/b/c/d/foo 644 root f",
      "f1/b2 755 root d",
      "f1/b2/c 755 root d",
      "f1/b2/c/d 755 root d",
      "f1/b2/c/d/e 755 root d",
      "f1/b2/c/d/e/bar 644 root f",
      "f2 755 root d",
      "f2/c 755 root d",
      "f2/c/d 755 root d",
      "f2/c/d/e 755 root d",
      "f2/c/d/e/bar 644 root f",
      "f2/c/d/e/bay 644 root f",
      "f3 755 root d",
      "f3/c 755 root d",
      "f3/c/d 755 root d",
      "f3/c/d/e 755 root d",
      "f3/c/d/e/bar 644 root f",
      "f3/d 755 root d",
      "f3/d/e 755 root d",
      "f3/d/e/baz 644 root f",
      "f3/d/e2 755 root d",
      "f3/d/e2/baz 644 root f",
      "q1 755 root d",
      "q1/src 755 root d",
      "q1/src/a 750 root d",
      "q1/src/a/b.go 644 root f",
      "q1/src/a/deep 755 root d",
      "q1/src/a/deep/c.go 644 root f",
      "q1/src/main.go 644 root f",
      "q2 755 root d",
      "q2/a 750 root d",
      "q2/a/b.go 644 root f",
      "q2/a/deep 755 root d",
      "q2/a/deep/c.go 644 root f",
      "q2/main.go 644 root f",
      "q3 755 root d",
      "q3/a 750 root d",
      "q3/a/b.go 644 root f",
      "q3/a/b.txt 644 root f",
      "q3/a/deep 755 root d",
      "q3/a/deep/c.go 644 root f",
      "q4 755 root d",
      "q4/main.go 644 root f",
    ]);
    // a new file under a ** pattern is a new input of the step
    await writeFile(join(ctx, "src/a/deep/new.go"), "7");
    assert.ok((await tree(ctx, ["q1"])).includes("q1/src/a/deep/new.go 644 root f"));
  },
);

/** The image's layers from an OCI layout (-o type=oci,tar=false), keyed by their history `created_by`. */
async function layers(ctx: string, ...flags: string[]): Promise<{ run: Run; layers: Map<string, string> }> {
  const out = join(work, `oci${n++}`);
  const run = await build(ctx, ...flags, "-o", `type=oci,dest=${out},tar=false`);
  assert.equal(run.code, 0, run.stderr);
  const index = JSON.parse(await readFile(join(out, "index.json"), "utf8"));
  const blob = async (d: string) =>
    JSON.parse(await readFile(join(out, "blobs", "sha256", d.slice(7)), "utf8"));
  const manifest = await blob(index.manifests[0].digest);
  const config = await blob(manifest.config.digest);
  const made = (config.history as { created_by?: string; empty_layer?: boolean }[]).filter(
    (h) => !h.empty_layer,
  );
  assert.equal(made.length, manifest.layers.length);
  return {
    run,
    layers: new Map(made.map((h, i) => [h.created_by ?? `#${i}`, manifest.layers[i].digest as string])),
  };
}

test(
  "COPY --link: its layer does not depend on the parent (an earlier change keeps it cached, same blob); the destination's symlinks are not followed",
  { skip: skipPeers },
  async (t) => {
    if (skipped(t)) return;
    const dfOf = (step: string) => `FROM ${BASE}
RUN ${step} && ln -s /tmp /linked && mkdir -p /opt/keep && chmod 700 /opt/keep
COPY --link app.txt /linked/
COPY --link --chown=nobody app.txt /own/app.txt
RUN test "$(stat -c %U /own/app.txt)" = nobody
`;
    const ctx = await context(dfOf("echo one > /one"), { "app.txt": "app" });
    const first = await layers(ctx);
    await writeFile(join(ctx, "Dockerfile"), dfOf("echo two > /two"));
    const second = await layers(ctx);
    // the first RUN reran; both --link COPY steps stayed CACHED with the same blobs; the last RUN reran
    const steps = second.run.stderr.split("\n\n");
    const stepOf = (label: string) => steps.find((b) => b.includes(label)) ?? "";
    assert.match(stepOf("COPY --link app.txt /linked/"), /CACHED/);
    assert.match(stepOf("COPY --link --chown=nobody"), /CACHED/);
    assert.match(stepOf("RUN test"), /DONE/);
    const byStep = (m: Map<string, string>, prefix: string) =>
      [...m].find(([k]) => k.includes(prefix))?.[1] ?? assert.fail(`no layer for ${prefix}`);
    for (const p of ["COPY app.txt /linked/", "COPY app.txt /own/app.txt"])
      assert.equal(byStep(second.layers, p), byStep(first.layers, p), `${p}: the same blob`);
    assert.notEqual(byStep(second.layers, "echo two"), byStep(first.layers, "echo one"));
    // /linked was a symlink to /tmp: --link does not follow it, the layer's /linked dir replaces it
    const files = await tree(ctx, ["linked", "tmp", "own"]);
    assert.ok(files.includes("linked 755 root d"), files.join("\n"));
    assert.ok(files.includes("linked/app.txt 644 root f"));
    assert.ok(!files.some((f) => f.startsWith("tmp/app.txt")));
    assert.ok(files.includes("own/app.txt 644 nobody f"));
  },
);

test(
  "ADD --checksum on a local file and on several sources, ADD --keep-git-dir: BuildKit's errors",
  { skip: skipPeers },
  async (t) => {
    if (skipped(t)) return;
    const sum = "sha256:" + "0".repeat(64);
    const local = await build(
      await context(`FROM ${BASE}\nADD --checksum=${sum} a.tar /x/\n`, { "a.tar": "x" }),
    );
    assert.notEqual(local.code, 0);
    assert.match(local.stderr, /checksum can't be specified for non-HTTP\(S\) sources \(line 2\)/);
    const many = await build(
      await context(
        `FROM ${BASE}\nADD --checksum=${sum} http://127.0.0.1:1/a http://127.0.0.1:1/b /x/\n`,
        {},
      ),
    );
    assert.match(many.stderr, /checksum can't be specified for multiple sources/);
    const git = await build(
      await context(`FROM ${BASE}\nADD --keep-git-dir=true a.txt /x/\n`, { "a.txt": "x" }),
    );
    assert.notEqual(git.code, 0);
    assert.match(git.stderr, /--keep-git-dir is not supported/);
  },
);
