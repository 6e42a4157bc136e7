/**
 * Kafka as a passive observer (see source.ts). One concern per module: errors.ts maps kafkajs failures to
 * messages, fetchLoop.ts runs the kafkajs consumer, worker.ts and fetcher.ts carry it into a fetch thread,
 * batchQueue.ts hands batches to consume(), record.ts is one record as the engine sees it.
 */
export { KafkaSource, type KafkaSourceOptions } from './source';
export { describeKafkaError, type KafkaFailure, type KafkaWhere } from './errors';
