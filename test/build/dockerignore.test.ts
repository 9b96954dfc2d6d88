import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, mkdir, writeFile, rm, appendFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { PatternMatcher, parseDockerignore } from "../../src/build/dockerignore.js";
import { BuildContext } from "../../src/build/context.js";

test("dockerignore: parsing trims, skips comments (only at line start), cleans paths, strips a leading /", () => {
  const p = parseDockerignore(
    "\uFEFF# comment\n\n  foo/../bar  \n/root-only\n! keep.md\n  # not a comment\n./a//b/\n",
  );
  assert.deepEqual(p, ["bar", "root-only", "!keep.md", "# not a comment", "a/b"]);
});

test("dockerignore: patternmatcher semantics (**, * within a segment, parents, ! exceptions, order)", () => {
  const m = new PatternMatcher(
    parseDockerignore("*.md\n!README.md\n**/*.pyc\ndocs/\n!docs/keep.md\n/build\na?c\n[x-z].txt\n"),
  );
  const cases: [string, boolean][] = [
    ["CHANGELOG.md", true],
    ["README.md", false],
    ["nested/notes.md", false], // * does not cross /
    ["app/x.pyc", true],
    ["x.pyc", true], // **/ matches zero dirs
    ["a/b/c/d.pyc", true],
    ["docs", true],
    ["docs/guide.md", true], // parent matches
    ["docs/keep.md", false],
    ["build", true],
    ["build/out.bin", true],
    ["src/build", false], // root-relative
    ["abc", true],
    ["abbc", false],
    ["y.txt", true],
    ["a.txt", false],
  ];
  for (const [path, want] of cases) assert.equal(m.matches(path), want, path);
  assert.equal(m.mayReincludeUnder("docs"), true);
  assert.equal(m.mayReincludeUnder("build"), false);
});

test("dockerignore: ** forms and escapes", () => {
  const m = new PatternMatcher(["**", "!src/**", "src/**/*.tmp"]);
  assert.equal(m.matches("anything/at/all"), true);
  assert.equal(m.matches("src/a/b.js"), false);
  assert.equal(m.matches("src/a/b.tmp"), true);
  assert.equal(new PatternMatcher(["a\\*b"]).matches("a*b"), true);
  assert.equal(new PatternMatcher(["a\\*b"]).matches("axb"), false);
  assert.equal(new PatternMatcher(["dir/**"]).matches("dir/x/y"), true);
  assert.equal(new PatternMatcher(["dir/**"]).matches("dir"), false);
});

async function mk(root: string, rel: string, content = rel) {
  await mkdir(dirname(join(root, rel)), { recursive: true });
  await writeFile(join(root, rel), content + "\n");
}

test("context: the dockerignore fixture's walk gives exactly what docker sends; stat cache avoids re-reading", async () => {
  const root = await mkdtemp(join(tmpdir(), "dy-build-ctx-"));
  const cache = await mkdtemp(join(tmpdir(), "dy-build-sc-"));
  try {
    const files = [
      "README.md",
      "CHANGELOG.md",
      "docs/guide.md",
      "docs/keep.md",
      "nested/notes.md",
      "nested/deep/dir/file.txt",
      "nested/deep/dir/file.tmp",
      "tmpfile.tmp",
      "app/main.py",
      "app/util.py",
      "app/sub/mod.py",
      "app/__pycache__/main.cpython-311.pyc",
      "app/sub/__pycache__/mod.cpython-311.pyc",
      "app/tests/test_main.py",
      "logs/debug.log",
      "logs/important.log",
      "build/output.bin",
      "secrets/.env",
      ".env",
      ".git/HEAD",
      ".git/config",
      "node_modules/x/index.js",
      "config/.hidden",
      "with space.txt",
      "Dockerfile",
    ];
    for (const f of files) await mk(root, f);
    await mkdir(join(root, "empty"));
    await writeFile(
      join(root, ".dockerignore"),
      "# c\n\n.git\n.env\nsecrets/\n**/__pycache__\n**/*.pyc\n**/*.tmp\n*.md\n!README.md\ndocs/\n!docs/keep.md\nlogs\n!logs/important.log\n/build\nnode_modules\napp/tests\nDockerfile\n.dockerignore\n",
    );
    const ctx = await BuildContext.load(root, { cacheDir: cache });
    const got = [...ctx.entries.values()]
      .filter((e) => e.rel)
      .map((e) => (e.type === "dir" ? e.rel + "/" : e.rel))
      .sort();
    assert.deepEqual(got, [
      "README.md",
      "app/",
      "app/main.py",
      "app/sub/",
      "app/sub/mod.py",
      "app/util.py",
      "config/",
      "config/.hidden",
      "docs/",
      "docs/keep.md",
      "empty/",
      "logs/",
      "logs/important.log",
      "nested/",
      "nested/deep/",
      "nested/deep/dir/",
      "nested/deep/dir/file.txt",
      "nested/notes.md",
      "with space.txt",
    ]);
    const d1 = await ctx.digestOf([""]);
    assert.equal(ctx.hashedFiles, 10);
    await ctx.save();
    // no change: nothing is read again, same digest
    const ctx2 = await BuildContext.load(root, { cacheDir: cache });
    assert.equal(await ctx2.digestOf([""]), d1);
    assert.equal(ctx2.hashedFiles, 0);
    await ctx2.save();
    // one edit: only that file is hashed, the digest changes
    await appendFile(join(root, "app/main.py"), "# edit\n");
    const ctx3 = await BuildContext.load(root, { cacheDir: cache });
    assert.notEqual(await ctx3.digestOf([""]), d1);
    assert.equal(ctx3.hashedFiles, 1);
  } finally {
    await rm(root, { recursive: true, force: true });
    await rm(cache, { recursive: true, force: true });
  }
});

test("context: symlinks are followed only inside the context", async () => {
  const root = await mkdtemp(join(tmpdir(), "dy-build-ctx-"));
  try {
    await mk(root, "real/file.txt");
    const { symlink } = await import("node:fs/promises");
    await symlink("real", join(root, "inside"));
    await symlink("/etc", join(root, "outside"));
    await symlink("../../../../etc/passwd", join(root, "climb"));
    const ctx = await BuildContext.load(root);
    assert.equal((await ctx.resolveSources("inside/file.txt"))[0]?.rel, "real/file.txt");
    // /etc resolves against the context root, where there is no etc: not found (never the host's)
    assert.deepEqual(await ctx.resolveSources("outside/passwd"), []);
    assert.deepEqual(await ctx.resolveSources("climb"), []);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test("dockerignore: the walk's per-directory matching (parentHits + matchesIn) equals MatchesOrParentMatches", () => {
  const sets = [
    ["**/*.md", "!docs/**/keep.md", "build", "*/tmp", "a/b/c", "!a/b/c/d", "vendor/**/test", ".git"],
    ["*", "!src", "src/**/*.log", "!src/keep.log"],
    ["**", "!**/*.go", "x?z/[ab]*"],
  ];
  const names = [
    "a",
    "b",
    "c",
    "d",
    "docs",
    "keep.md",
    "x.md",
    "build",
    "tmp",
    "src",
    "k.log",
    "keep.log",
    "m.go",
    "xyz",
    "aq",
    "vendor",
    "test",
    ".git",
  ];
  for (const set of sets) {
    const m = new PatternMatcher(set);
    // every path up to depth 3 over the names
    const walk = (dir: string, hits: boolean[], depth: number) => {
      for (const n of names) {
        const p = dir ? `${dir}/${n}` : n;
        assert.equal(m.matchesIn(p, hits), m.matches(p), `${JSON.stringify(set)}: ${p}`);
        if (depth < 3) walk(p, m.parentHits(p, hits), depth + 1);
      }
    };
    walk("", m.parentHits(""), 1);
  }
});
