/** docs/protocol.md names every method that shared/protocol.ts declares. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PROTOCOL_METHODS } from '../../shared/protocol';

const root = path.resolve(__dirname, '..', '..');

/** Every `method = '…'` in the protocol module's source, so that one left out of PROTOCOL_METHODS still counts. */
function declaredMethods(): string[] {
  const source = readFileSync(path.join(root, 'shared', 'protocol.ts'), 'utf8');
  return [...source.matchAll(/export const method = '([^']+)'/g)].map((m) => m[1]);
}

describe('docs/protocol.md', () => {
  it('finds the methods the module declares', () => {
    assert.deepEqual(declaredMethods().sort(), [...PROTOCOL_METHODS].sort());
    assert.deepEqual(
      declaredMethods().sort(),
      [
        'clean/acceptNormal',
        'clean/agentError',
        'clean/alert',
        'clean/checkAddress',
        'clean/history',
        'clean/listPipelines',
        'clean/listTopics',
        'clean/metrics',
        'clean/pausePipeline',
        'clean/resetBaseline',
        'clean/resolveTopic',
        'clean/resumePipeline',
        'clean/samples',
        'clean/secret',
        'clean/startPipeline',
        'clean/status',
        'clean/stopPipeline',
        'clean/testSink',
        'clean/undoBaseline',
      ],
    );
  });

  it('has a section for every method', () => {
    const page = readFileSync(path.join(root, 'docs', 'protocol.md'), 'utf8');
    const headings = new Set([...page.matchAll(/^### `([^`]+)`$/gm)].map((m) => m[1]));
    const missing = declaredMethods().filter((m) => !headings.has(m));
    assert.deepEqual(missing, [], `docs/protocol.md has no "### \`method\`" section for: ${missing.join(', ')}`);
  });
});
