import { createHash, randomBytes } from "node:crypto";

const sha = (b: Buffer) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

/**
 * Pushes an OCI image of `layers` random layers of `layerMb` MiB each to the plain-HTTP registry
 * `reg` as `repo:tag`, with monolithic blob uploads; returns the manifest digest.
 */
export async function pushRandomImage(
  reg: string,
  repo: string,
  tag: string,
  layers: number,
  layerMb: number,
): Promise<string> {
  const put = async (b: Buffer) => {
    const d = sha(b);
    const r = await fetch(`http://${reg}/v2/${repo}/blobs/uploads/`, { method: "POST" });
    const loc = new URL(r.headers.get("location")!, `http://${reg}`);
    loc.searchParams.set("digest", d);
    const p = await fetch(loc, {
      method: "PUT",
      body: new Uint8Array(b),
      headers: { "content-type": "application/octet-stream" },
    });
    if (p.status !== 201) throw new Error(`blob PUT ${p.status}`);
    return d;
  };
  const descriptors = [];
  for (let i = 0; i < layers; i++) {
    const b = randomBytes(layerMb << 20);
    descriptors.push({
      mediaType: "application/vnd.oci.image.layer.v1.tar",
      digest: await put(b),
      size: b.length,
    });
  }
  const config = Buffer.from(
    JSON.stringify({
      architecture: "amd64",
      os: "linux",
      rootfs: { type: "layers", diff_ids: descriptors.map((l) => l.digest) },
      config: {},
    }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: {
        mediaType: "application/vnd.oci.image.config.v1+json",
        digest: await put(config),
        size: config.length,
      },
      layers: descriptors,
    }),
  );
  const r = await fetch(`http://${reg}/v2/${repo}/manifests/${tag}`, {
    method: "PUT",
    body: new Uint8Array(manifest),
    headers: { "content-type": "application/vnd.oci.image.manifest.v1+json" },
  });
  if (r.status !== 201) throw new Error(`manifest PUT ${r.status}: ${await r.text()}`);
  return sha(manifest);
}
