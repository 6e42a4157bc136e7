import { promises as fs } from 'node:fs';
import type { SourceContext, SourceMessage, SourceSpec, StreamSource } from './types';
import { SourceError } from './types';
import { InterruptibleSleep } from './pause';

const CHUNK = 1 << 20;
const POLL_MS = 200;

/**
 * JSON Lines replay (one message per line; blank lines skipped), and with `follow` a tail of a growing
 * file (like `tail -f`, restarting from the top when the file is truncated). Positions are line numbers.
 */
export class FileSource implements StreamSource {
  readonly description: string;
  private readonly path: string;
  private readonly follow: boolean;
  private handle: fs.FileHandle | null = null;
  private closed = false;
  private readonly pause = new InterruptibleSleep();

  constructor(private readonly spec: SourceSpec, private readonly ctx: SourceContext) {
    this.path = spec.topic;
    this.follow = spec.options?.follow === true;
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
    let offset = 0;
    if (this.follow && this.spec.from.kind === 'latest') offset = (await fh.stat()).size;
    let line = 0;
    let carry: Buffer | null = null;
    const buf = Buffer.allocUnsafe(CHUNK);
    while (!this.closed) {
      const { bytesRead } = await fh.read(buf, 0, CHUNK, offset);
      if (bytesRead === 0) {
        if (!this.follow) break;
        const { size } = await fh.stat();
        if (size < offset) {
          this.ctx.log.info(`${this.path} was truncated; reading it again from the top`);
          offset = 0;
          carry = null;
          continue;
        }
        await this.pause.sleep(POLL_MS);
        continue;
      }
      offset += bytesRead;
      // Lines are copied out of the shared read buffer, as it is reused for the next chunk.
      const data: Buffer = carry ? Buffer.concat([carry, buf.subarray(0, bytesRead)]) : Buffer.from(buf.subarray(0, bytesRead));
      carry = null;
      const batch: SourceMessage[] = [];
      let start = 0;
      for (;;) {
        const nl = data.indexOf(10, start);
        if (nl < 0) break;
        line++;
        const end = nl > start && data[nl - 1] === 13 ? nl - 1 : nl;
        if (end > start) batch.push({ value: data.subarray(start, end), position: line });
        start = nl + 1;
      }
      if (start < data.length) carry = data.subarray(start);
      if (batch.length) yield batch;
    }
    if (carry && carry.length && !this.closed) {
      line++;
      const end = carry[carry.length - 1] === 13 ? carry.length - 1 : carry.length;
      if (end > 0) yield [{ value: carry.subarray(0, end), position: line }];
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
