/**
 * The 30 datasets of the UEA multivariate time series classification archive
 * (Bagnall et al. 2018, arXiv:1811.00075, Table 1), by the names the archive's
 * zip files use. Any of them can be downloaded by name.
 */
export const UEA_MULTIVARIATE_NAMES: readonly string[] = [
  "ArticularyWordRecognition",
  "AtrialFibrillation",
  "BasicMotions",
  "CharacterTrajectories",
  "Cricket",
  "DuckDuckGeese",
  "EigenWorms",
  "Epilepsy",
  "ERing",
  "EthanolConcentration",
  "FaceDetection",
  "FingerMovements",
  "HandMovementDirection",
  "Handwriting",
  "Heartbeat",
  "InsectWingbeat",
  "JapaneseVowels",
  "Libras",
  "LSST",
  "MotorImagery",
  "NATOPS",
  "PEMS-SF",
  "PenDigits",
  "PhonemeSpectra",
  "RacketSports",
  "SelfRegulationSCP1",
  "SelfRegulationSCP2",
  "SpokenArabicDigits",
  "StandWalkJump",
  "UWaveGestureLibrary",
];

/** Default base URL of the archive's per-dataset zips (`<base><Name>.zip`). */
export const DEFAULT_ARCHIVE_URL = "https://www.timeseriesclassification.com/aeon-toolkit/";

/** The archive's spelling of a name given in any case, or undefined if it is not an archive name. */
export function canonicalArchiveName(name: string): string | undefined {
  const lower = name.toLowerCase();
  return UEA_MULTIVARIATE_NAMES.find((n) => n.toLowerCase() === lower);
}
