/** Order statistics over the first `n` entries of a scratch array (reordered in place), O(n) expected. */

/** The k-th smallest (0-based) of a[0..n). */
export function selectKth(a: Float64Array, n: number, k: number): number {
  let lo = 0;
  let hi = n - 1;
  while (hi > lo) {
    // Median of three as the pivot keeps sorted and constant runs linear.
    const mid = (lo + hi) >>> 1;
    let x = a[lo], y = a[mid], z = a[hi];
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        x = a[i];
        a[i] = a[j];
        a[j] = x;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k];
  }
  return a[k];
}

/** The median of a[0..n) (mean of the two middle values when n is even). */
export function median(a: Float64Array, n: number): number {
  if (n === 0) return NaN;
  const upper = selectKth(a, n, n >>> 1);
  if (n & 1) return upper;
  // After selection everything below index n/2 is ≤ upper: the lower middle is their maximum.
  let lower = -Infinity;
  for (let i = 0; i < n >>> 1; i++) if (a[i] > lower) lower = a[i];
  return (lower + upper) / 2;
}
