/** The Kafka benchmark's topic size, shared by its driver (bench/kafka.ts) and its bundled sides (bench/kafkaSides.ts). */
export const RECORDS = 1_000_000;
export const PARTITIONS = 4;
