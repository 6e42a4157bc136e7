/** Start positions of a Pulsar reader: as the WebSocket reader's parameter, and as words for status lines. */
import type { StartPosition } from '../types';

/** The reader's `messageId` parameter for a start position. A time start reads from the earliest and skips. */
export function startMessageId(from: StartPosition): string {
  switch (from.kind) {
    case 'latest':
      return 'latest';
    case 'earliest':
    case 'time':
      return 'earliest';
    case 'id':
      return from.id;
  }
}

/** Human form of a start position for status lines. */
export function describeStart(from: StartPosition): string {
  switch (from.kind) {
    case 'earliest':
      return 'from the earliest message';
    case 'latest':
      return 'from new messages on';
    case 'time':
      return `from messages published at or after ${new Date(from.time).toISOString()}`;
    case 'id':
      return `after message ${from.id}`;
  }
}
