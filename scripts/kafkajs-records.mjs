// esbuild plugin: bundles resolve kafkajs's record decoder (required by its record-batch decoder as
// '../record/v0/decoder') to the monitor's own, server/sources/kafka/recordDecoder.ts (why: see that file).
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const decoder = path.join(root, 'server', 'sources', 'kafka', 'recordDecoder.ts');
const batchDecoder = path.join('kafkajs', 'src', 'protocol', 'recordBatch', 'v0', 'decoder.js');

/** @type {import('esbuild').Plugin} */
export const kafkajsRecords = {
  name: 'clean-kafkajs-records',
  setup(build) {
    let replaced = false;
    let bundlesKafkajs = false;
    build.onStart(() => {
      replaced = false;
      bundlesKafkajs = false;
    });
    build.onLoad({ filter: /recordBatch[\\/]v0[\\/]decoder\.js$/ }, (args) => {
      if (args.path.endsWith(batchDecoder)) bundlesKafkajs = true;
      return undefined;
    });
    build.onResolve({ filter: /^\.\.\/record\/v0\/decoder$/ }, (args) => {
      if (!args.importer.endsWith(batchDecoder)) return undefined;
      replaced = true;
      return { path: 'kafkajs-record-decoder', namespace: 'clean-kafkajs-records' };
    });
    build.onLoad({ filter: /.*/, namespace: 'clean-kafkajs-records' }, () => ({
      contents: `module.exports = require(${JSON.stringify(decoder)}).decodeRecord;`,
      resolveDir: root,
      loader: 'js',
    }));
    build.onEnd(() => {
      // A bundle that holds kafkajs's batch decoder must hold ours too: a kafkajs that moved its files fails the build.
      if (bundlesKafkajs && !replaced) {
        return { errors: [{ text: `kafkajs-records: ${batchDecoder} no longer requires '../record/v0/decoder'; update scripts/kafkajs-records.mjs` }] };
      }
      return undefined;
    });
  },
};
