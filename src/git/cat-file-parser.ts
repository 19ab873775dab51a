/**
 * Incremental parser for `git cat-file --batch` output:
 *   `<oid> <type> <size>\n<content>\n`  or  `<name> missing\n` / `<name> ambiguous\n`.
 * Fed raw stdout chunks as they arrive, so blobs are copied once into a buffer of the announced
 * size instead of re-concatenating the whole stream.
 */
export interface CatFileObject {
  /** The object id (or, for missing/ambiguous, the name that was asked for). */
  oid: string;
  type: string;
  size: number;
  content: Buffer;
}

const MAX_HEADER = 1024;

export class CatFileBatchParser {
  private header: Buffer = Buffer.alloc(0);
  private body: { oid: string; type: string; size: number; content: Buffer; filled: number } | null = null;
  /** Waiting for the LF that terminates a body. */
  private needTrailer = false;

  /** Consumes a chunk and returns the objects it completed. */
  push(chunk: Buffer): CatFileObject[] {
    const out: CatFileObject[] = [];
    let pos = 0;
    while (pos < chunk.length) {
      if (this.needTrailer) {
        if (chunk[pos] !== 0x0a) throw new Error('cat-file --batch: missing newline after object content');
        pos += 1;
        this.needTrailer = false;
        continue;
      }
      if (this.body) {
        const take = Math.min(this.body.size - this.body.filled, chunk.length - pos);
        chunk.copy(this.body.content, this.body.filled, pos, pos + take);
        this.body.filled += take;
        pos += take;
        if (this.body.filled === this.body.size) {
          const { oid, type, size, content } = this.body;
          out.push({ oid, type, size, content });
          this.body = null;
          this.needTrailer = true;
        }
        continue;
      }
      const nl = chunk.indexOf(0x0a, pos);
      if (nl === -1) {
        this.header = Buffer.concat([this.header, chunk.subarray(pos)]);
        if (this.header.length > MAX_HEADER) throw new Error('cat-file --batch: header too long');
        break;
      }
      const line = Buffer.concat([this.header, chunk.subarray(pos, nl)]).toString('utf8');
      this.header = Buffer.alloc(0);
      pos = nl + 1;
      const obj = this.parseHeader(line);
      if (obj) out.push(obj);
    }
    return out;
  }

  /** Throws if the stream stopped in the middle of an object. */
  end(): void {
    if (this.body || this.needTrailer || this.header.length > 0) {
      throw new Error('cat-file --batch: output ended in the middle of an object');
    }
  }

  private parseHeader(line: string): CatFileObject | null {
    const special = /^(.*) (missing|ambiguous)$/.exec(line);
    if (special) return { oid: special[1] ?? '', type: special[2] ?? 'missing', size: 0, content: Buffer.alloc(0) };
    const m = /^([0-9a-f]{40,64}) ([a-z]+) (\d+)$/.exec(line);
    if (!m) throw new Error(`cat-file --batch: unexpected header '${line.slice(0, 100)}'`);
    const size = Number(m[3]);
    this.body = { oid: m[1] ?? '', type: m[2] ?? '', size, content: Buffer.allocUnsafe(size), filled: 0 };
    if (size === 0) {
      const { oid, type, content } = this.body;
      this.body = null;
      this.needTrailer = true;
      return { oid, type, size, content };
    }
    return null;
  }
}
