import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { memoryIO } from "../src/cli/io.js";
import { runCli } from "../src/cli/main.js";
import { formatSeconds } from "../src/cli/progress.js";
import { version } from "../src/version.js";

describe("cli", () => {
  it("prints the package version", async () => {
    const io = memoryIO();
    expect(await runCli(["--version"], io)).toBe(0);
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
    expect(io.out.join("").trim()).toBe(pkg.version);
    expect(version).toBe(pkg.version);
  });

  it("exits 2 on an unknown command", async () => {
    const io = memoryIO();
    expect(await runCli(["no-such-command"], io)).toBe(2);
    expect(io.err.join("")).toMatch(/unknown command/);
  });
});

describe("formatSeconds", () => {
  it("rounds before splitting into minutes and seconds", () => {
    expect(formatSeconds(59.6)).toBe("1m00s");
    expect(formatSeconds(3419.7)).toBe("57m00s");
    expect(formatSeconds(42.2)).toBe("42s");
    expect(formatSeconds(7260)).toBe("2h01m");
  });
});
