/**
 * Imported first by kafka/index.ts and kafka/worker.ts, before anything loads kafkajs: puts the monitor's record
 * decoder (recordDecoder.ts) in place for unbundled runs. Bundles get it from the build's esbuild plugin.
 */
import { installRecordDecoder } from './recordDecoder';

installRecordDecoder();
