// RUN in an OCI runtime bundle: runc or crun, daemonless. One container per RUN step, always deleted.
import { spawn, execFile } from "node:child_process";
import { promisify } from "node:util";
import { lstat, mkdir, readFile, readdir, rm, writeFile, mkdtemp } from "node:fs/promises";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { DockyardError } from "../image/errors.js";
import { hasExecutable } from "./util.js";
import { resolveInRoot } from "./fsutil.js";
import { isShuttingDown, registerCleanup, tempPrefix } from "./cleanup.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const execFileP = promisify(execFile);

export type NetworkMode = "host" | "none";

export interface RunMount {
  type: "bind" | "tmpfs";
  destination: string;
  source?: string;
  readonly?: boolean;
}

export interface RunSpec {
  /** The container's root filesystem (the merged overlay dir of the step). */
  rootfs: string;
  args: string[];
  env: string[];
  cwd: string;
  /** USER value: "", "name", "uid", "name:group", "uid:gid". Resolved against the rootfs. */
  user?: string;
  network: NetworkMode;
  mounts?: RunMount[];
  hostname?: string;
  /** Output chunks as they come (stdout and stderr of the process). */
  onOutput?: (chunk: Buffer, stream: "stdout" | "stderr") => void;
  signal?: AbortSignal;
}

export interface RunResult {
  exitCode: number;
  /** The last ~64 KiB of combined output, for error messages. */
  tail: string;
}

export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const RUNTIME_ROOT = "/run/dockyard/runtime";

let runtimeCache: string | undefined;

/**
 * True on a "hybrid" cgroup host (v1 controllers, plus a v2 hierarchy at /sys/fs/cgroup/unified
 * that holds controllers of its own): crun refuses to start containers there ("cgroups in hybrid
 * mode not supported"), even with its cgroup manager disabled.
 */
export function crunUnsupportedHere(controllersFile = "/sys/fs/cgroup/unified/cgroup.controllers"): boolean {
  try {
    return readFileSync(controllersFile, "utf8").trim() !== "";
  } catch {
    return false;
  }
}

/** Runtimes in the order they are tried: crun first (it starts faster), runc where crun cannot run. */
export function runtimeCandidates(
  wanted = process.env.DOCKYARD_RUNTIME,
  hybrid = crunUnsupportedHere(),
): string[] {
  if (wanted) return [wanted];
  return hybrid ? ["runc", "crun"] : ["crun", "runc"];
}

/**
 * The OCI runtime to use: $DOCKYARD_RUNTIME, else crun, else runc (runc first on hosts where crun
 * cannot run); a clear error when none is installed.
 */
export function findRuntime(): string {
  if (runtimeCache) return runtimeCache;
  const wanted = process.env.DOCKYARD_RUNTIME;
  const candidates = runtimeCandidates(wanted);
  for (const c of candidates) {
    const p = hasExecutable(c);
    if (p) return (runtimeCache = p);
  }
  throw new DockyardError(
    "UNSUPPORTED",
    wanted
      ? `OCI runtime ${JSON.stringify(wanted)} (DOCKYARD_RUNTIME) not found in PATH`
      : "no OCI runtime found to run RUN steps: install one (apt-get install runc, or apt-get install crun), or use --driver docker",
  );
}

export function runtimeRoot(): string {
  return RUNTIME_ROOT;
}

export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  home?: string;
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}
interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

/** A root filesystem: a host directory, or a reader of its files (the layers' merged view, unmounted). */
export type RootFiles = string | ((path: string) => Promise<string | undefined>);

async function readRootFile(rootfs: RootFiles, path: string): Promise<string | undefined> {
  if (typeof rootfs === "function") return rootfs(path);
  try {
    const p = await resolveInRoot(rootfs, path);
    return await readFile(p, "utf8");
  } catch {
    return undefined;
  }
}

export async function readPasswd(rootfs: RootFiles): Promise<PasswdEntry[]> {
  const text = (await readRootFile(rootfs, "/etc/passwd")) ?? "";
  const out: PasswdEntry[] = [];
  for (const line of text.split("\n")) {
    const f = line.split(":");
    if (f.length < 7 || line.startsWith("#")) continue;
    const uid = Number(f[2]);
    const gid = Number(f[3]);
    if (!Number.isInteger(uid) || !Number.isInteger(gid)) continue;
    out.push({ name: f[0]!, uid, gid, home: f[5]! });
  }
  return out;
}

export async function readGroup(rootfs: RootFiles): Promise<GroupEntry[]> {
  const text = (await readRootFile(rootfs, "/etc/group")) ?? "";
  const out: GroupEntry[] = [];
  for (const line of text.split("\n")) {
    const f = line.split(":");
    if (f.length < 4 || line.startsWith("#")) continue;
    const gid = Number(f[2]);
    if (!Number.isInteger(gid)) continue;
    out.push({ name: f[0]!, gid, members: f[3]!.split(",").filter(Boolean) });
  }
  return out;
}

const isNumeric = (s: string) => /^[0-9]+$/.test(s);

/**
 * Resolves a USER / --chown value the way runc's libcontainer/user does for Docker: names are
 * looked up in the rootfs's /etc/passwd and /etc/group; a numeric uid that has no passwd entry
 * gets gid 0 (or its entry's gid); supplementary groups come from /etc/group membership.
 */
export async function resolveUser(
  rootfs: RootFiles,
  spec: string | undefined,
  opts: { supplementary?: boolean } = {},
): Promise<ResolvedUser> {
  if (!spec) spec = "root";
  const [userPart, groupPart] = spec.split(":", 2) as [string, string | undefined];
  const needPasswd = !isNumeric(userPart) || groupPart === undefined;
  const passwd = needPasswd || opts.supplementary !== false ? await readPasswd(rootfs) : [];
  let uid: number;
  let gid = 0;
  let home: string | undefined;
  let name: string | undefined;
  if (isNumeric(userPart)) {
    uid = Number(userPart);
    const e = passwd.find((p) => p.uid === uid);
    if (e) {
      gid = e.gid;
      home = e.home;
      name = e.name;
    }
  } else {
    const e = passwd.find((p) => p.name === userPart);
    if (!e) {
      if (userPart === "root" && groupPart === undefined) return { uid: 0, gid: 0, additionalGids: [] };
      throw new DockyardError(
        "NOT_FOUND",
        `unable to find user ${userPart}: no matching entries in passwd file`,
      );
    }
    uid = e.uid;
    gid = e.gid;
    home = e.home;
    name = e.name;
  }
  const groups = groupPart !== undefined || opts.supplementary !== false ? await readGroup(rootfs) : [];
  if (groupPart !== undefined) {
    if (isNumeric(groupPart)) gid = Number(groupPart);
    else {
      const g = groups.find((x) => x.name === groupPart);
      if (!g)
        throw new DockyardError(
          "NOT_FOUND",
          `unable to find group ${groupPart}: no matching entries in group file`,
        );
      gid = g.gid;
    }
  }
  const additionalGids =
    opts.supplementary === false || !name || groupPart !== undefined
      ? []
      : groups.filter((g) => g.members.includes(name!) && g.gid !== gid).map((g) => g.gid);
  return { uid, gid, additionalGids, home };
}

const DEFAULT_CAPS = [
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_FSETID",
  "CAP_FOWNER",
  "CAP_MKNOD",
  "CAP_NET_RAW",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETFCAP",
  "CAP_SETPCAP",
  "CAP_NET_BIND_SERVICE",
  "CAP_SYS_CHROOT",
  "CAP_KILL",
  "CAP_AUDIT_WRITE",
];

function hostsFile(hostname: string): string {
  return `127.0.0.1\tlocalhost ${hostname}\n::1\tlocalhost ip6-localhost ip6-loopback\n`;
}

/** The OCI runtime config (config.json) of one RUN step. */
export function runtimeConfig(
  spec: RunSpec,
  user: ResolvedUser,
  files: { hosts: string; resolv: string },
): Record<string, unknown> {
  const hostname = spec.hostname ?? "dockyard";
  const env = [...spec.env];
  if (!env.some((e) => e.startsWith("PATH="))) env.unshift(`PATH=${DEFAULT_PATH}`);
  const mounts: Record<string, unknown>[] = [
    { destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"] },
    {
      destination: "/dev",
      type: "tmpfs",
      source: "tmpfs",
      options: ["nosuid", "strictatime", "mode=755", "size=65536k"],
    },
    {
      destination: "/dev/pts",
      type: "devpts",
      source: "devpts",
      options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
    },
    {
      destination: "/dev/shm",
      type: "tmpfs",
      source: "shm",
      options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
    },
    { destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"] },
    { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"] },
    { destination: "/etc/resolv.conf", type: "bind", source: files.resolv, options: ["rbind", "ro"] },
    { destination: "/etc/hosts", type: "bind", source: files.hosts, options: ["rbind", "ro"] },
  ];
  for (const m of spec.mounts ?? []) {
    if (m.type === "tmpfs")
      mounts.push({
        destination: m.destination,
        type: "tmpfs",
        source: "tmpfs",
        options: ["nosuid", "nodev", "mode=1777"],
      });
    else
      mounts.push({
        destination: m.destination,
        type: "bind",
        source: m.source,
        options: ["rbind", m.readonly ? "ro" : "rw"],
      });
  }
  const namespaces = [{ type: "pid" }, { type: "ipc" }, { type: "uts" }, { type: "mount" }];
  if (spec.network === "none") namespaces.push({ type: "network" });
  return {
    ociVersion: "1.0.2",
    process: {
      terminal: false,
      user: { uid: user.uid, gid: user.gid, additionalGids: user.additionalGids },
      args: spec.args,
      env,
      cwd: spec.cwd || "/",
      capabilities: {
        bounding: DEFAULT_CAPS,
        effective: DEFAULT_CAPS,
        permitted: DEFAULT_CAPS,
      },
      noNewPrivileges: false,
    },
    root: { path: spec.rootfs, readonly: false },
    hostname,
    mounts,
    linux: {
      namespaces,
      maskedPaths: [
        "/proc/acpi",
        "/proc/asound",
        "/proc/kcore",
        "/proc/keys",
        "/proc/latency_stats",
        "/proc/timer_list",
        "/proc/timer_stats",
        "/proc/sched_debug",
        "/proc/scsi",
        "/sys/firmware",
      ],
      readonlyPaths: ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
    },
  };
}

/**
 * Mount points the runtime creates in the rootfs when they are missing (/proc, /etc/hosts, a
 * --mount target…) must not end up in the layer: like BuildKit's mount-stub cleaner, remember
 * the first missing component of each destination before the run and remove it afterwards if
 * it is still an empty stub.
 */
async function findStubs(rootfs: string, destinations: string[]): Promise<string[]> {
  const stubs = new Set<string>();
  for (const d of destinations) {
    const parts = d.split("/").filter(Boolean);
    let cur = rootfs;
    for (const p of parts) {
      cur = join(cur, p);
      try {
        const st = await lstat(cur);
        if (st.isSymbolicLink()) break; // the runtime resolves it inside the rootfs; not ours to clean
      } catch {
        stubs.add(cur);
        break;
      }
    }
  }
  return [...stubs];
}

async function isEmptyStub(p: string): Promise<boolean> {
  let st;
  try {
    st = await lstat(p);
  } catch {
    return false;
  }
  if (st.isFile()) return st.size === 0;
  if (!st.isDirectory()) return false;
  for (const name of await readdir(p)) if (!(await isEmptyStub(join(p, name)))) return false;
  return true;
}

async function removeStubs(stubs: string[]): Promise<void> {
  for (const s of stubs) if (await isEmptyStub(s)) await rm(s, { recursive: true, force: true });
}

/**
 * Global flags for the runtime. crun is told not to manage cgroups: a build step needs no resource
 * limits, and crun refuses hosts with hybrid cgroups (v1 controllers beside a v2 hierarchy) otherwise.
 */
function runtimeGlobals(runtime: string): string[] {
  const g = ["--root", RUNTIME_ROOT];
  if (/(^|\/)crun$/.test(runtime)) g.push("--cgroup-manager=disabled");
  return g;
}

async function runtimeExec(args: string[]): Promise<void> {
  const rt = findRuntime();
  await execFileP(rt, [...runtimeGlobals(rt), ...args]).catch(() => {});
}

/** Deletes (killing first) the runtime containers whose bundle lies under one of `dirs`: a killed build's. */
export async function removeContainersUnder(dirs: string[]): Promise<void> {
  let rt: string;
  try {
    rt = findRuntime();
  } catch {
    return; // no runtime: no containers
  }
  const { stdout } = await execFileP(rt, [...runtimeGlobals(rt), "list", "--format", "json"]).catch(() => ({
    stdout: "[]",
  }));
  const listed = (JSON.parse(stdout.trim() || "[]") as { id: string; bundle: string }[] | null) ?? [];
  for (const c of listed)
    if (dirs.some((d) => c.bundle === d || c.bundle.startsWith(d + "/")))
      await runtimeExec(["delete", "--force", c.id]);
}

/** Runs one process in a fresh container on `spec.rootfs`; the container is always deleted. */
export async function runContainer(spec: RunSpec, bundleParent: string): Promise<RunResult> {
  const runtime = findRuntime();
  const user = await resolveUser(spec.rootfs, spec.user);
  await mkdir(bundleParent, { recursive: true });
  const bundle = await mkdtemp(join(bundleParent, tempPrefix("bundle", bundleParent)));
  const id = `dockyard-${randomBytes(6).toString("hex")}`;
  let exited: Promise<unknown> | undefined;
  let unregister: () => void;
  try {
    // on Ctrl-C: the container is killed and gone before its rootfs is unmounted (this cleanup is
    // newer than the snapshot's, so it runs first); a `run` that had not created it yet is waited for
    unregister = registerCleanup(async () => {
      for (let i = 0; exited && i < 25; i++) {
        await runtimeExec(["kill", id, "KILL"]);
        if (await Promise.race([exited.then(() => true), sleep(200).then(() => false)])) break;
      }
      await runtimeExec(["delete", "--force", id]);
      await rm(bundle, { recursive: true, force: true });
    });
  } catch (err) {
    await rm(bundle, { recursive: true, force: true }); // interrupted before it started
    throw err;
  }
  try {
    const hosts = join(bundle, "hosts");
    const resolv = join(bundle, "resolv.conf");
    await writeFile(hosts, hostsFile(spec.hostname ?? "dockyard"));
    const hostResolv = await readFile("/etc/resolv.conf", "utf8").catch(() => "");
    await writeFile(resolv, spec.network === "none" ? "" : hostResolv);
    const config = runtimeConfig(spec, user, { hosts, resolv });
    await writeFile(join(bundle, "config.json"), JSON.stringify(config));
    // Stubs the runtime creates for its own mounts are removed; --mount targets stay in the image as
    // empty directories, as the BuildKit of Docker 20.10 leaves them.
    const dests = ["/proc", "/dev", "/sys", "/etc/resolv.conf", "/etc/hosts"];
    const stubs = await findStubs(spec.rootfs, dests);
    // the working directory is created if missing (as BuildKit does), and belongs to the layer
    if (spec.cwd && spec.cwd !== "/") {
      const cwd = await resolveInRoot(spec.rootfs, spec.cwd);
      await mkdir(cwd, { recursive: true });
    }
    await mkdir(RUNTIME_ROOT, { recursive: true });
    const tailChunks: Buffer[] = [];
    let tailSize = 0;
    const keep = (c: Buffer) => {
      tailChunks.push(c);
      tailSize += c.length;
      while (tailSize > 65536 && tailChunks.length > 1) tailSize -= tailChunks.shift()!.length;
    };
    try {
      if (isShuttingDown()) throw new DockyardError("INTERNAL", "the build was interrupted");
      const exitCode = await (exited = new Promise<number>((resolve, reject) => {
        const child = spawn(runtime, [...runtimeGlobals(runtime), "run", "--bundle", bundle, id], {
          stdio: ["ignore", "pipe", "pipe"],
        });
        child.stdout.on("data", (c: Buffer) => {
          keep(c);
          spec.onOutput?.(c, "stdout");
        });
        child.stderr.on("data", (c: Buffer) => {
          keep(c);
          spec.onOutput?.(c, "stderr");
        });
        const onAbort = () => void runtimeExec(["kill", id, "KILL"]);
        spec.signal?.addEventListener("abort", onAbort, { once: true });
        child.on("error", (err) =>
          reject(new DockyardError("INTERNAL", `cannot start ${runtime}: ${err.message}`)),
        );
        child.on("close", (code, sig) => {
          spec.signal?.removeEventListener("abort", onAbort);
          resolve(code ?? (sig ? 128 + 9 : 1));
        });
      }));
      return { exitCode, tail: Buffer.concat(tailChunks).toString("utf8") };
    } finally {
      // `runc run` / `crun run` delete the container when its process exits; a state dir left
      // behind (a signal, an error) is deleted here
      if (existsSync(join(RUNTIME_ROOT, id))) await runtimeExec(["delete", "--force", id]);
      await removeStubs(stubs);
      await rm(bundle, { recursive: true, force: true });
    }
  } finally {
    unregister();
    await rm(bundle, { recursive: true, force: true });
  }
}
