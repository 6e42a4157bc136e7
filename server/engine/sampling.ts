/**
 * Hash sampling (`sample: 0.1`): a record is kept iff its payload's 64-bit hash (server/engine/hash.ts, the
 * one duplicates use) falls in the first `rate` of the hash space. The choice depends on the bytes alone,
 * so every copy of a record makes the same one: a duplicate is kept with its original or dropped with it,
 * and the duplicate rate among kept records estimates the topic's without bias. Every agent and worker
 * decides the same way, with no coordination.
 *
 * Rates over a sample are estimates: they carry a Wilson score interval, and an alert needs the interval's
 * lower bound past its limit (a sampled window that only might be over is not news).
 */
import type { SourceMessage } from '../sources/types';
import { hashBytes, hashOut, hashString } from './hash';
import type { Finding } from './detectors/types';

const SPACE = 4294967296;

/** The high-lane bound below which a hash is kept: `rate` of the 2^32 space (rate 1: every record). */
export function sampleBound(rate: number): number {
  return rate >= 1 ? SPACE : Math.floor(rate * SPACE);
}

/**
 * Whether a record is kept; `bound` from sampleBound. Hashes the payload as the duplicates detector does
 * (bytes as they are, text as text, an in-memory object as its JSON), and leaves the hash in hashOut.
 * An empty payload hashes as the empty text: every tombstone decides alike.
 */
export function keepRecord(msg: SourceMessage, bound: number): boolean {
  const v = msg.value;
  if (v instanceof Uint8Array) hashBytes(v);
  else if (typeof v === 'string') hashString(v);
  else if (v === null || v === undefined) hashString('');
  else hashString(JSON.stringify(v));
  return hashOut[0] < bound;
}

/** z of a two-sided 95 % interval. */
export const WILSON_Z = 1.959963984540054;

/** The Wilson score interval of `count` successes in `n` trials, [low, high] (n = 0: [0, 1]). */
export function wilson(count: number, n: number, z = WILSON_Z): [number, number] {
  if (n <= 0) return [0, 1];
  const p = count / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  // At 0 and n the bounds are 0 and 1 exactly (the arithmetic leaves a rounding error there).
  return [count <= 0 ? 0 : Math.max(0, centre - half), count >= n ? 1 : Math.min(1, centre + half)];
}

/**
 * Of what stands out in a sampled window of `n` records (`objects` of them objects, the denominator of the
 * field detectors' shares), what is sure to: the findings whose share's interval lies wholly above its
 * limit. Unsampled windows keep every finding.
 */
export function sureFindings(findings: Finding[], sampled: boolean, n: number, objects: number): Finding[] {
  if (!sampled) return findings;
  return findings.filter((f) => {
    // The field detectors' shares are of object records; the record detectors' of all records.
    const over = f.detector === 'missing' || f.detector === 'schema' || f.detector === 'outliers' ? objects : n;
    return wilson(Math.round(f.share * over), over)[0] > f.limit;
  });
}
