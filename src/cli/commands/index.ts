import type { Command } from "../command.js";

type Loader = () => Promise<{ commands: Command[] }>;

/**
 * Which module holds each top-level word. Modules load lazily so `dockyard lint` does not pay
 * for openpgp or dockerode at start-up.
 */
const registry: Loader = async () => {
  const m = await import("./registry.js");
  await m.prepare();
  return m;
};
const image: Loader = () => import("./image.js");
const lint: Loader = () => import("./lint.js");
const build: Loader = () => import("./build.js");
const trust: Loader = () => import("./trust.js");

export const COMMAND_MODULES: Record<string, Loader> = {
  registry,
  lint,
  build,
  trust,
  copy: image,
  push: image,
  pull: image,
  tag: image,
  images: image,
  rmi: image,
  inspect: image,
  tags: image,
  login: image,
  logout: image,
  save: image,
  load: image,
  export: image,
  import: image,
};

export const ALL_LOADERS: Loader[] = [registry, image, lint, build, trust];
