import { spawnSync } from "node:child_process";
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { memoryIO } from "../../src/cli/io.js";
import { runCli } from "../../src/cli/main.js";

const repo = fileURLToPath(new URL("../../", import.meta.url));
const bin = join(repo, "bin/tspatch.js");
const work = mkdtempSync(join(tmpdir(), "tspatch-bundle-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The installed CLI as a user runs it (bin/tspatch.js takes the bundle when it is current). */
function shell(argv: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [bin, ...argv], {
    encoding: "utf8",
    env: { ...process.env, TSPATCH_CACHE: join(work, "cache") },
  });
}

async function inProcess(argv: string[]): Promise<{ code: number; out: string }> {
  const io = memoryIO();
  const code = await runCli(argv, io);
  return { code, out: io.out.join("") };
}

describe("the bundled CLI (scripts/bundle-cli.mjs)", () => {
  it("was built with dist/ and is what bin/tspatch.js runs", () => {
    const modules = statSync(join(repo, "dist/cli/run.js"), { throwIfNoEntry: false });
    const bundle = statSync(join(repo, "dist/cli-bundle/run.js"), { throwIfNoEntry: false });
    expect(modules, "dist/ is missing: run `npm run build`").toBeDefined();
    expect(bundle, "dist/cli-bundle/ is missing: `npm run build` bundles the CLI").toBeDefined();
    expect(bundle?.mtimeMs).toBeGreaterThanOrEqual(modules?.mtimeMs ?? Number.POSITIVE_INFINITY);
    // npm packages stay imports (native addons load from node_modules): esbuild marks code it
    // inlines from a package with a "// node_modules/<path>" comment.
    const chunks = readdirSync(join(repo, "dist/cli-bundle")).filter((f) => f.endsWith(".js"));
    expect(chunks.length).toBeGreaterThan(1);
    for (const chunk of chunks) {
      expect(readFileSync(join(repo, "dist/cli-bundle", chunk), "utf8")).not.toMatch(/^\/\/ node_modules\//m);
    }
  });

  it("finds the shipped datasets from a chunk: `datasets info` equals the unbundled CLI", async () => {
    const argv = ["datasets", "info", "JapaneseVowels", "--json"];
    const shelled = shell(argv);
    expect(shelled.stderr).toBe("");
    expect(shelled.status).toBe(0);
    const direct = await inProcess(argv);
    expect(direct.code).toBe(0);
    expect(JSON.parse(shelled.stdout)).toEqual(JSON.parse(direct.out));
    expect(shelled.stdout).toMatch(/JapaneseVowels_TRAIN\.ts/);
  });

  it("finds the shipped architecture maps from a chunk: import-pth --arch torch-encoder", async () => {
    const pth = join(repo, "test/fixtures/stock/torch_encoder.pth");
    const out = (dir: string) => ["import-pth", pth, "--arch", "torch-encoder", "--heads", "2", "--out", dir];
    const shelled = shell(out(join(work, "bundled")));
    expect(shelled.stderr).toBe("");
    expect(shelled.status).toBe(0);
    expect((await inProcess(out(join(work, "direct")))).code).toBe(0);
    for (const file of ["config.json", "weights.safetensors"]) {
      expect(readFileSync(join(work, "bundled", file))).toEqual(readFileSync(join(work, "direct", file)));
    }
  });
});

describe("bin/tspatch.js chooses its entry", () => {
  // A copy of the launcher beside two small entry modules that say which one ran.
  const pkg = join(work, "pkg");
  mkdirSync(join(pkg, "bin"), { recursive: true });
  copyFileSync(bin, join(pkg, "bin/tspatch.js"));
  const entry = (dir: string, name: string) => {
    mkdirSync(join(pkg, dir), { recursive: true });
    const file = join(pkg, dir, "run.js");
    writeFileSync(file, `export async function main() { process.stdout.write("${name}"); return 0; }\n`);
    return file;
  };
  const launch = () => spawnSync(process.execPath, [join(pkg, "bin/tspatch.js")], { encoding: "utf8" });

  it("exits 1 naming the fix when dist/ is missing", () => {
    const r = launch();
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/npm run build/);
  });

  it("takes the bundle only when it is not older than the modules", () => {
    const modules = entry("dist/cli", "modules");
    expect(launch().stdout).toBe("modules");
    const bundle = entry("dist/cli-bundle", "bundle");
    utimesSync(modules, 1_000, 1_000);
    utimesSync(bundle, 2_000, 2_000);
    expect(launch().stdout).toBe("bundle");
    // A tsc-only rebuild (modules newer than the bundle) must not run the stale bundle.
    utimesSync(modules, 3_000, 3_000);
    expect(launch().stdout).toBe("modules");
  });
});
