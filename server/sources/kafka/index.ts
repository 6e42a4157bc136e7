/**
 * Kafka as a passive observer (see source.ts). One concern per module: errors.ts maps kafkajs failures to
 * messages, fetchLoop.ts runs the kafkajs consumer, worker.ts and fetcher.ts carry it into a fetch thread,
 * batchQueue.ts hands batches to consume(), record.ts is one record as the engine sees it, recordDecoder.ts
 * decodes kafkajs's records faster (fastRecords.ts installs it, and must stay the first import).
 */
import './fastRecords';
export { KafkaSource, type KafkaSourceOptions } from './source';
export { describeKafkaError, type KafkaFailure, type KafkaWhere } from './errors';
