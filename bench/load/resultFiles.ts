import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { ListenerReport } from './rtcListener.js';

/** Where a run's per-listener detail goes: beside its summary, gzip-compressed. */
export function detailFileOf(summaryFile: string): string {
  return `${summaryFile.replace(/\.json$/, '')}.listeners.json.gz`;
}

/**
 * Writes a run's results: the summary (every figure, readable, small enough for the repo) as
 * pretty JSON, and each listener's report, which runs to thousands of lines, gzip-compressed
 * beside it. The summary names its detail file.
 */
export function writeResults(
  summaryFile: string,
  summary: Record<string, unknown>,
  perListener: ListenerReport[],
): { summaryFile: string; detailFile: string | undefined } {
  // A run with no listeners to detail (a meeting, a comparison of builds) writes its summary only.
  const detailFile = perListener.length > 0 ? detailFileOf(summaryFile) : undefined;
  mkdirSync(path.dirname(summaryFile), { recursive: true });
  writeFileSync(
    summaryFile,
    `${JSON.stringify({ ...summary, ...(detailFile ? { perListenerDetail: path.basename(detailFile) } : {}) }, null, 2)}\n`,
  );
  if (detailFile) writeFileSync(detailFile, gzipSync(`${JSON.stringify(perListener)}\n`, { level: 9 }));
  return { summaryFile, detailFile };
}

/**
 * Adds a row to a results table of BENCHMARKS.md: before the `<!-- rows:<table> -->` marker that
 * ends it, so that the tables stay where the text around them explains them.
 */
export function insertRow(file: string, table: string, row: string): void {
  const marker = `<!-- rows:${table} -->`;
  const text = readFileSync(file, 'utf8');
  if (!text.includes(marker)) throw new Error(`${file} has no ${marker} marker: row not written:\n${row}`);
  writeFileSync(file, text.replace(marker, `${row}\n${marker}`));
}
