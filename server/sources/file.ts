import { promises as fs } from 'node:fs';
import type { SourceContext, SourceMessage, SourceSpec, StreamSource } from './types';
import { SourceError } from './types';
import { InterruptibleSleep } from './pause';

const CHUNK = 1 << 20;
const POLL_MS = 200;
/** The engine's default maxMessageBytes, for a context that does not say. */
const DEFAULT_MAX_MESSAGE_BYTES = 1 << 20;
/** What a too-large line keeps of itself, for its sample. */
const HEAD_BYTES = 256;

/**
 * JSON Lines replay (one message per line; blank lines skipped), and with `follow` a tail of a growing
 * file (like `tail -f`, restarting from the top, at line 1, when the file is truncated). Positions are line numbers.
 *
 * A line is buffered only up to maxMessageBytes: past it, the line is passed on as too large (its first bytes
 * and `oversize`, which the engine counts as a `parse` issue) and the rest is skipped up to the next newline
 * without being kept, so a file with no newline (or /dev/zero) is read in constant memory and linear time.
 */
export class FileSource implements StreamSource {
  readonly description: string;
  private readonly path: string;
  private readonly follow: boolean;
  private readonly maxMessageBytes: number;
  private handle: fs.FileHandle | null = null;
  private closed = false;
  private readonly pause = new InterruptibleSleep();

  constructor(private readonly spec: SourceSpec, private readonly ctx: SourceContext) {
    this.path = spec.topic;
    this.follow = spec.options?.follow === true;
    this.maxMessageBytes = ctx.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.description = `file ${spec.topic}${this.follow ? ' (follow)' : ''}`;
  }

  async connect(): Promise<void> {
    try {
      this.handle = await fs.open(this.path, 'r');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new SourceError(`File not found: ${this.path}. Check the path (relative paths start from ${process.cwd()}).`, 'not-found');
      if (code === 'EACCES') throw new SourceError(`Cannot read ${this.path}: permission denied.`, 'access');
      if (code === 'ENOTDIR') throw new SourceError(`Cannot open ${this.path}: a part of that path is a file, not a folder. Check the path (a config connection's path is a folder when pipelines name files in it).`, 'not-found');
      if (code === 'EISDIR') throw new SourceError(`${this.path} is a folder; give a JSON Lines file.`, 'not-found');
      throw new SourceError(`Cannot open ${this.path}: ${(err as Error).message}`);
    }
  }

  async *consume(): AsyncIterable<SourceMessage[]> {
    const fh = this.handle;
    if (!fh) throw new SourceError('FileSource.consume() called before connect()');
    const limit = this.maxMessageBytes;
    let offset = 0;
    if (this.follow && this.spec.from.kind === 'latest') offset = (await fh.stat()).size;
    let line = 0;
    /** The start of a line that a chunk did not finish, in pieces: joined once, when the line ends. */
    let parts: Buffer[] = [];
    let partBytes = 0;
    /** Inside a line already passed on as too large: everything up to its newline is dropped. */
    let skipping = false;
    const buf = Buffer.allocUnsafe(CHUNK);
    const tooLarge = (head: Buffer, bytes: number): SourceMessage => ({ value: Buffer.from(head.subarray(0, HEAD_BYTES)), oversize: bytes, position: line });
    while (!this.closed) {
      const { bytesRead } = await fh.read(buf, 0, CHUNK, offset);
      if (bytesRead === 0) {
        if (!this.follow) break;
        const { size } = await fh.stat();
        if (size < offset) {
          this.ctx.log.info(`${this.path} was truncated; reading it again from the top`);
          offset = 0;
          line = 0;
          parts = [];
          partBytes = 0;
          skipping = false;
          continue;
        }
        await this.pause.sleep(POLL_MS);
        continue;
      }
      offset += bytesRead;
      // Inside a too-large line with no end in sight (/dev/zero): nothing to copy.
      if (skipping && buf.subarray(0, bytesRead).indexOf(10) < 0) continue;
      // Lines are views of one copy of the chunk, as the read buffer is reused for the next chunk.
      const data = Buffer.from(buf.subarray(0, bytesRead));
      const batch: SourceMessage[] = [];
      let start = 0;
      for (;;) {
        const nl = data.indexOf(10, start);
        if (nl < 0) break;
        if (skipping) skipping = false; // the end of a line already passed on
        else {
          line++;
          if (partBytes === 0) {
            const end = nl > start && data[nl - 1] === 13 ? nl - 1 : nl;
            if (end > start) batch.push({ value: data.subarray(start, end), position: line });
          } else {
            const total = partBytes + nl - start;
            if (total > limit + 1) batch.push(tooLarge(parts[0], total));
            else {
              parts.push(data.subarray(start, nl));
              const whole = Buffer.concat(parts, total);
              const end = total > 0 && whole[total - 1] === 13 ? total - 1 : total;
              if (end > 0) batch.push({ value: whole.subarray(0, end), position: line });
            }
            parts = [];
            partBytes = 0;
          }
        }
        start = nl + 1;
      }
      if (start < data.length && !skipping) {
        parts.push(data.subarray(start));
        partBytes += data.length - start;
        // Over the limit (a CR before the newline aside) before it even ended: pass it on now, drop the rest.
        if (partBytes > limit + 1) {
          line++;
          batch.push(tooLarge(parts[0], partBytes));
          parts = [];
          partBytes = 0;
          skipping = true;
        }
      }
      if (batch.length) yield batch;
    }
    if (partBytes > 0 && !this.closed) {
      line++;
      const whole = Buffer.concat(parts, partBytes);
      const end = whole[partBytes - 1] === 13 ? partBytes - 1 : partBytes;
      if (end > 0) yield [{ value: whole.subarray(0, end), position: line }];
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.pause.interrupt();
    const fh = this.handle;
    this.handle = null;
    if (fh) await fh.close().catch(() => undefined);
  }
}
