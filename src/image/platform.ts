import { DockyardError } from "./errors.js";
import type { Platform } from "./manifest.js";

const NODE_ARCH: Record<string, string> = {
  x64: "amd64",
  arm64: "arm64",
  arm: "arm",
  ia32: "386",
  ppc64: "ppc64le",
  s390x: "s390x",
  riscv64: "riscv64",
};

/** The platform of this machine in OCI terms (`linux/amd64`). */
export function hostPlatform(): Platform {
  const architecture = NODE_ARCH[process.arch] ?? process.arch;
  const p: Platform = { os: "linux", architecture };
  if (architecture === "arm64") p.variant = "v8";
  return p;
}

/** Parses `os/arch[/variant]`. */
export function parsePlatform(value: string): Platform {
  const parts = value.split("/");
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => p === "")) {
    throw new DockyardError("USAGE", `invalid platform ${JSON.stringify(value)}: expected os/arch[/variant]`);
  }
  const p: Platform = { os: parts[0]!, architecture: parts[1]! };
  if (parts[2]) p.variant = parts[2];
  return p;
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join("/");
}

/** Whether `candidate` satisfies `wanted` (variant only compared when wanted has one; arm64 v8 is the default). */
export function platformMatches(wanted: Platform, candidate: Platform | undefined): boolean {
  if (!candidate) return false;
  if (wanted.os !== candidate.os || wanted.architecture !== candidate.architecture) return false;
  if (!wanted.variant) return true;
  const cv = candidate.variant ?? (candidate.architecture === "arm64" ? "v8" : undefined);
  return cv === wanted.variant;
}
