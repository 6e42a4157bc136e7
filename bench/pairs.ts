/**
 * Alternated rounds of a baseline and the measured code, so that each pair sees the same machine conditions;
 * the median pair by ratio is reported, which a passing load spike on a shared 2-core machine cannot skew.
 */
export function medianPair(rounds: number, baseline: () => number, measured: () => number): [number, number] {
  const pairs: Array<[number, number]> = [];
  for (let r = 0; r < rounds; r++) {
    const b = baseline();
    pairs.push([b, measured()]);
  }
  pairs.sort((x, y) => x[1] / x[0] - y[1] / y[0]);
  return pairs[pairs.length >> 1];
}
