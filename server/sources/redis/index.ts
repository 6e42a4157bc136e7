/**
 * Redis Streams as a passive observer (see source.ts). One concern per module: xreadConnection.ts is the raw RESP2
 * reader connection, xreadReply.ts parses its replies into messages, errors.ts words the server's refusals,
 * scan.ts lists stream keys, config.ts reads the URL and options.
 */
export { RedisStreamSource, type RedisStreamSourceOptions } from './source';
export { DEFAULT_PAYLOAD_FIELDS } from './xreadReply';
export { compareIds } from './config';
export { scanStreamKeys } from './scan';
