/**
 * labels (with `labelField`): a record far from its class centroid over the numeric features, relative to
 * the class's spread: a likely mislabelled record (the heuristic of the original Python library).
 */
import { RecordRateDetector } from './record';
import { pct } from './types';

export const createLabels = () => new RecordRateDetector('labels', (rate) => `${pct(rate)} of records lie far from their label's class`);
