/**
 * Find datasets by name on the search path (see {@link searchPath}), load them,
 * and download archive datasets that are not found locally.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { FileTooLarge, readFileBounded } from "../bounded-read.js";
import { InputError, inputError } from "../errors.js";
import { parseArff } from "./arff-format.js";
import type { Dataset } from "./dataset.js";
import { type DownloadOptions, downloadDataset } from "./download.js";
import { encodeLabels, type LabelMap, type LabelMapKind } from "./labels.js";
import { cachedParse } from "./parsed-cache.js";
import { type DataOrigin, searchPath } from "./search-path.js";
import { dataFileTooLarge, MAX_DATA_FILE_BYTES } from "./text-input.js";
import { parseTs } from "./ts-format.js";
import { canonicalArchiveName, UEA_MULTIVARIATE_NAMES } from "./uea-archive.js";

export type Split = "train" | "test";

export interface LoadOptions extends DownloadOptions {
  split?: Split;
  /** Variant suffix: `variant: "eq"` loads `<Name>_eq_TRAIN.ts`. */
  variant?: string;
  /** Download archive datasets not found locally (default true, off when TSPATCH_OFFLINE=1). */
  download?: boolean;
  labelMap?: LabelMapKind;
}

export interface FoundFile {
  path: string;
  origin: DataOrigin | "path";
}

const EXTENSIONS = [".ts", ".arff"];

/** True when the argument names a file rather than a dataset. */
export function isDatasetPath(nameOrPath: string, cwd: string = process.cwd()): boolean {
  if (/[\\/]/.test(nameOrPath) || /\.(ts|arff)$/i.test(nameOrPath)) return true;
  const full = resolve(cwd, nameOrPath);
  return existsSync(full) && statSync(full).isFile();
}

/** The file names a split of `name` may have (`name` already includes any variant). */
export function expectedFileNames(name: string, split: Split): string[] {
  return EXTENSIONS.map((ext) => `${name}_${split.toUpperCase()}${ext}`);
}

/** Folders inside a search directory where `name`'s files may be: the directory itself and `<Name>/`. */
function candidateFolders(dir: string, name: string): string[] {
  const base = name.replace(/_eq$/i, "");
  return [...new Set([dir, join(dir, name), join(dir, base)])];
}

/**
 * Find the file of one split on the search path.
 *
 * @example
 * findDatasetFile("JapaneseVowels", "train", { env: {} })?.origin; // "bundled"
 */
export function findDatasetFile(
  name: string,
  split: Split,
  options: LoadOptions = {},
): FoundFile | undefined {
  for (const { dir, origin } of searchPath(options)) {
    for (const folder of candidateFolders(dir, name)) {
      for (const file of expectedFileNames(name, split)) {
        const path = join(folder, file);
        if (existsSync(path)) return { path, origin };
      }
    }
  }
  return undefined;
}

/**
 * Parse one dataset file, choosing the parser by extension (or by content when
 * the extension is neither .ts nor .arff).
 *
 * @example
 * const ds = await readDatasetFile("data/LSST_TRAIN.ts");
 */
export async function readDatasetFile(
  path: string,
  options: { name?: string; labelMap?: LabelMapKind; cwd?: string } = {},
): Promise<Dataset> {
  const full = resolve(options.cwd ?? process.cwd(), path);
  let bytes: Uint8Array;
  try {
    // bounded: a file too long to decode is refused by its size, a pipe or device as it passes it
    bytes = readFileBounded(full, MAX_DATA_FILE_BYTES);
  } catch (error) {
    if (error instanceof FileTooLarge) throw dataFileTooLarge(path, error.bytes);
    const code = (error as NodeJS.ErrnoException).code;
    throw inputError(code === "ENOENT" ? "no such file" : `cannot read the file (${code ?? String(error)})`, {
      file: path,
      hint: code === "EISDIR" ? "give a .ts/.arff file or a dataset name" : "check the path",
    });
  }
  const parseOptions = { file: path, name: options.name, labelMap: options.labelMap };
  const arff = /\.arff$/i.test(full) || (!/\.ts$/i.test(full) && looksLikeArff(bytes));
  return cachedParse(bytes, { ...parseOptions, arff }, () =>
    arff ? parseArff(bytes, parseOptions) : parseTs(bytes, parseOptions),
  );
}

function looksLikeArff(bytes: Uint8Array): boolean {
  const head = new TextDecoder().decode(bytes.subarray(0, 4096)).toLowerCase();
  return /^\s*(%.*\n\s*)*@relation/.test(head);
}

/**
 * Load one split of a dataset by name (searching the search path, downloading
 * archive datasets if needed) or from a file path.
 *
 * @example
 * const train = await loadDataset("JapaneseVowels", { split: "train" });
 * const eq = await loadDataset("JapaneseVowels_eq", { split: "test" });
 * const file = await loadDataset("../shared/datasets/LSST/LSST_TRAIN.ts");
 */
export async function loadDataset(nameOrPath: string, options: LoadOptions = {}): Promise<Dataset> {
  const cwd = options.cwd ?? process.cwd();
  if (isDatasetPath(nameOrPath, cwd)) return readDatasetFile(nameOrPath, { cwd, labelMap: options.labelMap });
  const split = options.split ?? "train";
  const name = datasetName(nameOrPath, options.variant);
  const found = await locateOrDownload(name, split, options);
  return readDatasetFile(found.path, { name, labelMap: options.labelMap, cwd });
}

/**
 * Load TRAIN and TEST; TEST is encoded with TRAIN's label map so indices agree.
 *
 * @example
 * const { train, test } = await loadDatasetSplits("LSST");
 */
export async function loadDatasetSplits(
  name: string,
  options: Omit<LoadOptions, "split"> = {},
): Promise<{ train: Dataset; test: Dataset }> {
  const train = await loadDataset(name, { ...options, split: "train" });
  const test = await loadDataset(name, { ...options, split: "test" });
  return { train, test: withLabelMap(test, train.labelMap) };
}

/**
 * Re-encode a dataset's labels with another label map (e.g. TRAIN's, or a model's).
 *
 * @example
 * const encoded = withLabelMap(test, model.labelMap);
 */
export function withLabelMap(dataset: Dataset, labelMap: LabelMap): Dataset {
  if (dataset.labels.every((l) => l === "")) return { ...dataset, labelMap, classes: labelMap.classes };
  const labelIndex = encodeLabels(labelMap, dataset.labels, {
    file: dataset.file,
    lines: dataset.caseLines,
    hint: "TRAIN and TEST (or model and data) must have the same classes",
  });
  return { ...dataset, labelMap, classes: labelMap.classes, labelIndex };
}

/** Name with variant, in the archive's spelling when it is an archive name. */
export function datasetName(name: string, variant?: string): string {
  const match = /^(.*?)(_eq)?$/i.exec(name)!;
  const base = canonicalArchiveName(match[1]) ?? match[1];
  const suffix = variant ? `_${variant}` : match[2] ? "_eq" : "";
  return `${base}${suffix}`;
}

async function locateOrDownload(name: string, split: Split, options: LoadOptions): Promise<FoundFile> {
  const found = findDatasetFile(name, split, options);
  if (found) return found;
  const env = options.env ?? process.env;
  const allowed = options.download ?? !(env.TSPATCH_OFFLINE && env.TSPATCH_OFFLINE !== "0");
  const downloadable =
    canonicalArchiveName(name) !== undefined ||
    options.archiveUrl !== undefined ||
    env.TSPATCH_ARCHIVE_URL !== undefined;
  let failure: string | undefined;
  if (allowed && downloadable && !/_eq$/i.test(name)) {
    try {
      await downloadDataset(name, options);
      const downloaded = findDatasetFile(name, split, options);
      if (downloaded) return downloaded;
      failure = `the download did not contain ${expectedFileNames(name, split).join(" or ")}`;
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      failure = error.message;
    }
  }
  throw notFoundError(name, split, options, failure, allowed);
}

function notFoundError(
  name: string,
  split: Split,
  options: LoadOptions,
  failure: string | undefined,
  allowed: boolean,
) {
  const dirs = searchPath(options)
    .map(({ dir, origin }) => `    ${dir}  (${origin})`)
    .join("\n");
  const files = expectedFileNames(name, split).join(" or ");
  const archive = canonicalArchiveName(name.replace(/_eq$/i, ""));
  const why = failure
    ? `\n  download failed: ${failure.split("\n")[0]}`
    : archive && !allowed
      ? "\n  downloads are off (offline mode)"
      : "";
  const message =
    `dataset "${name}" (${split}) not found: looked for ${files} in\n${dirs}\n` +
    `  (each directory and its ${name.replace(/_eq$/i, "")}/ subfolder)${why}`;
  return inputError(message, {
    hint:
      `put ${name}_TRAIN.ts and ${name}_TEST.ts into one of those directories, ` +
      "or point to their folder with --data-dir DIR or TSPATCH_DATA=DIR" +
      (archive ? ` (the archive has them in ${archive}.zip)` : ""),
  });
}

export interface DatasetListing {
  name: string;
  /** Where TRAIN was found (first on the search path), or "downloadable". */
  origin: DataOrigin | "downloadable";
  dir?: string;
  /** Base names of the split files found. */
  files: string[];
}

/**
 * Every dataset on the search path (a `<Name>_TRAIN.{ts,arff}` in a search
 * directory or one level below), then the archive names not found locally.
 *
 * @example
 * listDatasets({ env: {} }).find((d) => d.name === "JapaneseVowels")?.origin; // "bundled"
 */
export function listDatasets(options: LoadOptions = {}): DatasetListing[] {
  const seen = new Map<string, DatasetListing>();
  for (const { dir, origin } of searchPath(options)) {
    for (const folder of [dir, ...subfolders(dir)]) {
      let entries: string[];
      try {
        entries = readdirSync(folder);
      } catch {
        continue;
      }
      for (const entry of entries.sort()) {
        const m = /^(.+)_TRAIN\.(ts|arff)$/i.exec(entry);
        if (!m || seen.has(m[1])) continue;
        const files = entries.filter((f) =>
          new RegExp(`^${escapeRegExp(m[1])}_(TRAIN|TEST)\\.(ts|arff)$`, "i").test(f),
        );
        seen.set(m[1], { name: m[1], origin, dir: folder, files });
      }
    }
  }
  const local = [...seen.values()];
  const downloadable = UEA_MULTIVARIATE_NAMES.filter((n) => !seen.has(n)).map(
    (name): DatasetListing => ({ name, origin: "downloadable", files: [] }),
  );
  return [...local, ...downloadable];
}

function subfolders(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory() && !e.name.startsWith("."))
      .map((e) => join(dir, e.name));
  } catch {
    return [];
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
