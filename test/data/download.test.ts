import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { strToU8, zipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { memoryIO } from "../../src/cli/io.js";
import { runCli } from "../../src/cli/main.js";
import { downloadDataset } from "../../src/data/download.js";
import { loadDatasetSplits } from "../../src/data/registry.js";
import { InputError } from "../../src/errors.js";
import { writeZip, zerosDeflated } from "../zip-writer.js";
import { tempDir } from "./helpers.js";

const TRAIN = "@problemName Toy\n@classLabel true a b\n@data\n1,2,3:4,5,6:a\n7,8,9:1,2,3:b\n";
const TEST = "@problemName Toy\n@classLabel true a b\n@data\n1,2:3,4:b\n";

// A zip like the archive's: a folder, the .ts and .arff files, a README and an
// entry that tries to escape the target folder.
const zip = zipSync({
  "Toy/Toy_TRAIN.ts": strToU8(TRAIN),
  "Toy/Toy_TEST.ts": strToU8(TEST),
  "Toy/README.txt": strToU8("not data"),
  "../evil.ts": strToU8(TRAIN),
});
const wrongZip = zipSync({ "Other_TRAIN.ts": strToU8(TRAIN) });
// Zip bombs: a TRAIN file of 1 GiB of zeros in 1 MB, declaring 1 KiB (a lie) or its true size.
const gigabyteOfZeros = zerosDeflated(2 ** 30);
const bombZip = (declaredSize: number) =>
  writeZip([
    { name: "Bomb/Bomb_TEST.ts", data: strToU8(TEST), deflate: true },
    { name: "Bomb/Bomb_TRAIN.ts", deflated: gigabyteOfZeros, declaredSize },
  ]);
const lyingBomb = bombZip(1024);
const honestBomb = bombZip(2 ** 30);

let server: Server;
let base: string;
const requests: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(req.url ?? "");
    const send = (status: number, body: Uint8Array) => {
      res.writeHead(status, { "content-length": body.length, "content-type": "application/zip" });
      res.end(body);
    };
    if (req.url === "/archive/Toy.zip") send(200, zip);
    else if (req.url === "/archive/Corrupt.zip") send(200, zip.slice(0, 40));
    else if (req.url === "/archive/Garbage.zip") send(200, strToU8("<html>not a zip</html>"));
    else if (req.url === "/archive/Wrong.zip") send(200, wrongZip);
    else if (req.url === "/archive/Bomb.zip") send(200, lyingBomb);
    else if (req.url === "/archive/Huge.zip") send(200, honestBomb);
    else send(404, strToU8("not found"));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/archive/`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe("downloadDataset (local HTTP server)", () => {
  it("downloads <Name>.zip, reports progress in bytes, extracts .ts/.arff into <cache>/<Name>/", async () => {
    const cacheDir = tempDir();
    const progress: [number, number][] = [];
    const result = await downloadDataset("Toy", {
      archiveUrl: base,
      cacheDir,
      env: {},
      onProgress: (done, total) => progress.push([done, total]),
    });
    expect(result.url).toBe(`${base}Toy.zip`);
    expect(result.dir).toBe(join(cacheDir, "Toy"));
    expect(result.files).toEqual(["Toy_TEST.ts", "Toy_TRAIN.ts", "evil.ts"]);
    expect(readFileSync(join(cacheDir, "Toy", "Toy_TRAIN.ts"), "utf8")).toBe(TRAIN);
    expect(existsSync(join(cacheDir, "evil.ts"))).toBe(false);
    expect(progress.at(-1)).toEqual([zip.length, zip.length]);
    // no temporary folders left behind
    expect(readdirSync(cacheDir)).toEqual(["Toy"]);
  });

  it("loadDatasetSplits downloads a dataset not found locally (TSPATCH_ARCHIVE_URL), then uses the cache", async () => {
    const root = tempDir();
    const env = { TSPATCH_ARCHIVE_URL: base, TSPATCH_CACHE: join(root, "cache") };
    const before = requests.length;
    const { train, test } = await loadDatasetSplits("Toy", { env, cwd: root });
    expect(train.cases).toBe(2);
    expect(test.cases).toBe(1);
    expect(train.file).toBe(join(root, "cache", "Toy", "Toy_TRAIN.ts"));
    expect(requests.length - before).toBe(1);
    await loadDatasetSplits("Toy", { env, cwd: root });
    expect(requests.length - before).toBe(1);
  });

  it("HTTP 404: an InputError, and loadDataset says where to put the files", async () => {
    const cacheDir = tempDir();
    await expect(downloadDataset("Missing", { archiveUrl: base, cacheDir, env: {} })).rejects.toThrow(
      /could not download http:\/\/127\.0\.0\.1:\d+\/archive\/Missing\.zip: HTTP 404/,
    );
    const error = await loadDatasetSplits("Missing", {
      archiveUrl: base,
      cacheDir,
      env: {},
      cwd: cacheDir,
    }).catch((e) => e);
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toMatch(/download failed: .*HTTP 404/);
    expect(error.message).toContain("Missing_TRAIN.ts");
    expect(error.message).toContain("--data-dir");
    expect(readdirSync(cacheDir)).toEqual([]);
  });

  it("a zip that unpacks to 1 GiB is refused before or while unpacking, and nothing stays in the cache", async () => {
    const cacheDir = tempDir();
    await expect(downloadDataset("Bomb", { archiveUrl: base, cacheDir, env: {} })).rejects.toThrow(
      /Bomb_TRAIN\.ts" unpacks to more than the 1024 bytes it declares/,
    );
    await expect(downloadDataset("Bomb", { archiveUrl: base, cacheDir, env: {} })).rejects.toBeInstanceOf(
      InputError,
    );
    await expect(downloadDataset("Huge", { archiveUrl: base, cacheDir, env: {} })).rejects.toThrow(
      /unpacks to more than 512 MiB \("Bomb\/Bomb_TRAIN\.ts" declares 1024 MiB\)/,
    );
    expect(readdirSync(cacheDir)).toEqual([]);
  });

  it("corrupt or non-zip bodies and zips without the dataset: InputErrors, nothing written", async () => {
    const cacheDir = tempDir();
    for (const name of ["Corrupt", "Garbage"]) {
      await expect(downloadDataset(name, { archiveUrl: base, cacheDir, env: {} })).rejects.toThrow(
        /not a readable zip/,
      );
    }
    await expect(downloadDataset("Wrong", { archiveUrl: base, cacheDir, env: {} })).rejects.toThrow(
      /has no Wrong_TRAIN\.ts/,
    );
    expect(readdirSync(cacheDir)).toEqual([]);
  });

  it("a refused connection is an InputError naming the URL", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await expect(
      downloadDataset("Toy", { archiveUrl: `http://127.0.0.1:${port}/`, cacheDir: tempDir(), env: {} }),
    ).rejects.toThrow(new RegExp(`could not download http://127\\.0\\.0\\.1:${port}/Toy\\.zip`));
  });

  it("tspatch datasets info downloads with a progress bar on stderr", async () => {
    const cwd = tempDir();
    const io = memoryIO({ cwd, env: { TSPATCH_ARCHIVE_URL: base, TSPATCH_CACHE: join(cwd, "cache") } });
    expect(await runCli(["datasets", "info", "Toy", "--json"], io)).toBe(0);
    expect(io.err.join("")).toMatch(/^download Toy \[#+\] \d+\/\d+ kB/);
    const info = JSON.parse(io.out.join(""));
    expect([info.train.cases, info.test.cases]).toEqual([2, 1]);
    const offline = memoryIO({ cwd, env: { TSPATCH_ARCHIVE_URL: base, TSPATCH_CACHE: join(cwd, "other") } });
    expect(await runCli(["datasets", "info", "Toy", "--offline"], offline)).toBe(2);
    expect(offline.err.join("")).toContain("Toy_TRAIN.ts");
  });
});
