import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, extname, join } from "node:path";
import { fileURLToPath } from "node:url";

const digests = new Map<string, string>();

/**
 * Hash of the modules in the folder of `moduleUrl` (the same extension, so `.ts` under the tests
 * and `.js` in dist/): a disk cache of what a layer computed keys on it, so a changed parser or
 * importer never reads a result the old code wrote.
 *
 * @example
 * const key = createHash("sha256").update(sourceDigest(import.meta.url)).update(bytes).digest("hex");
 */
export function sourceDigest(moduleUrl: string): string {
  const self = fileURLToPath(moduleUrl);
  const dir = dirname(self);
  let digest = digests.get(dir);
  if (digest === undefined) {
    const hash = createHash("sha256");
    for (const name of readdirSync(dir).sort())
      if (extname(name) === extname(self)) hash.update(name).update(readFileSync(join(dir, name)));
    digest = hash.digest("hex");
    digests.set(dir, digest);
  }
  return digest;
}
