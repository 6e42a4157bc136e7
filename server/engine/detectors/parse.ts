/** parse: a message that is not valid JSON, not a JSON object, empty, or over maxMessageBytes. */
import { RecordRateDetector } from './record';
import { pct } from './types';

export const createParse = () => new RecordRateDetector('parse', (rate) => `${pct(rate)} of records are not JSON objects`, true);
