import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmod, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { DOCKER_CLI, needPeers } from "../helpers/peers.js";
import { BIN, removeDir, startServer, tempDir, writeHtpasswd } from "../registry/helpers.js";

const skip = needPeers("dockerd");

/**
 * A credential helper speaking docker's protocol (`get|store|erase`, JSON on stdin/stdout), keeping
 * secrets in files. Real helpers (pass, secretservice, ecr-login) need a keyring or a cloud; the
 * protocol is what docker and dockyard share, and docker's own CLI drives this one too.
 */
const HELPER = `#!/bin/sh
set -e
dir="$DYTEST_CRED_DIR"
case "$1" in
  store) input=$(cat); key=$(printf '%s' "$input" | sed 's/.*"ServerURL":"\\([^"]*\\)".*/\\1/' | tr '/:' '__')
         printf '%s' "$input" > "$dir/$key"; echo store >> "$dir/log" ;;
  get)   key=$(cat | tr '/:' '__'); echo "get $key" >> "$dir/log"
         if [ -f "$dir/$key" ]; then cat "$dir/$key"; else echo "credentials not found in native keychain"; exit 1; fi ;;
  erase) key=$(cat | tr '/:' '__'); rm -f "$dir/$key"; echo erase >> "$dir/log" ;;
  *) exit 2 ;;
esac
`;

test(
  "credential helpers: docker login stores through the helper and dockyard pushes with it; dockyard login stores through it and docker pulls",
  { skip, timeout: 120_000 },
  async () => {
    const dir = await tempDir();
    const bin = join(dir, "bin");
    const creds = join(dir, "creds");
    const dockerConfig = join(dir, "docker");
    await mkdir(bin);
    await mkdir(creds);
    await mkdir(dockerConfig);
    await writeFile(join(bin, "docker-credential-dytest"), HELPER);
    await chmod(join(bin, "docker-credential-dytest"), 0o755);
    await writeFile(join(dockerConfig, "config.json"), JSON.stringify({ credsStore: "dytest" }));
    const file = await writeHtpasswd(dir, "helped", "s3cret-pw");
    const srv = await startServer({ args: ["--htpasswd", file, "--no-access-log"] });
    const host = `127.0.0.1:${srv.port}`;
    const env = {
      ...process.env,
      PATH: `${bin}:${process.env.PATH}`,
      DOCKER_CONFIG: dockerConfig,
      DYTEST_CRED_DIR: creds,
      DOCKYARD_HOME: join(dir, "home"),
      DOCKYARD_REGISTRY_AUTH: "",
      DOCKER_HOST: process.env.DOCKER_HOST ?? "unix:///run/dockyard-test/docker.sock",
    };
    const run = (cmd: string, args: string[], input?: string) =>
      spawnSync(cmd, args, { env, encoding: "utf8", input, timeout: 60_000 });
    const image = `${host}/helped/busybox:1`;
    try {
      // docker's CLI logs in: the secret goes to the helper, config.json keeps none.
      let r = run(DOCKER_CLI, ["login", "-u", "helped", "--password-stdin", host], "s3cret-pw\n");
      assert.equal(r.status, 0, r.stderr);
      const cfg = await readFile(join(dockerConfig, "config.json"), "utf8");
      assert.doesNotMatch(cfg, /s3cret|aGVscGVk/, "no secret in config.json");
      assert.ok((await readdir(creds)).some((f) => f.includes(String(srv.port))));

      // dockyard finds the login through the helper (no auth entry of its own).
      r = run(BIN, ["copy", "--progress", "plain", "docker-daemon:busybox:local", `docker://${image}`]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(await readFile(join(creds, "log"), "utf8"), /^get /m);

      // Without the helper's secret the registry refuses: the credentials really came from it.
      for (const f of await readdir(creds)) if (f !== "log") await removeDir(join(creds, f));
      r = run(BIN, ["pull", "--progress", "plain", image]);
      assert.equal(r.status, 5, `exit ${r.status}: ${r.stderr}`);
      assert.match(r.stderr, /dockyard login/);

      // dockyard login stores through the helper; docker pulls with it.
      r = run(BIN, ["login", "-u", "helped", "--password-stdin", host], "s3cret-pw\n");
      assert.equal(r.status, 0, r.stderr);
      assert.doesNotMatch(await readFile(join(dockerConfig, "config.json"), "utf8"), /s3cret|aGVscGVk/);
      r = run(DOCKER_CLI, ["pull", image]);
      assert.equal(r.status, 0, r.stderr);
      run(DOCKER_CLI, ["rmi", image]);

      // dockyard logout erases it from the helper.
      r = run(BIN, ["logout", host]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(await readFile(join(creds, "log"), "utf8"), /^erase$/m);
      assert.equal((await readdir(creds)).filter((f) => f !== "log").length, 0);
    } finally {
      await srv.stop();
      await removeDir(srv.data);
      await removeDir(dir);
    }
  },
);
