/**
 * duplicates: the same record (by a 64-bit hash of its bytes) seen earlier in the window: a producer
 * retrying, a replay, a consumer re-reading. The hash count lives with the engine's window; this judges it.
 */
import { RecordRateDetector } from './record';
import { pct } from './types';

export const createDuplicates = () => new RecordRateDetector('duplicates', (rate) => `${pct(rate)} of records repeat one earlier in the window`, true);
