/**
 * Writing one new table file for a flush or a compaction: take a file number (kept out of
 * obsolete-file deletion until the job ends), build, sync (TableBuilder.finish), and describe it.
 */

import { joinPath, tableFileName } from "../filenames.js";
import type { FileHandle } from "../fs/types.js";
import { compareInternalKeys, filterKeyOf } from "../internal-key.js";
import type { FileMeta } from "../manifest/file-meta.js";
import { TableBuilder } from "../sstable/index.js";
import type { OutputContext } from "./job-context.js";

export class TableOutput {
  private constructor(
    readonly number: number,
    readonly path: string,
    private readonly file: FileHandle,
    readonly builder: TableBuilder,
  ) {}

  static async create(ctx: OutputContext): Promise<TableOutput> {
    const number = ctx.newFileNumber();
    ctx.pendingOutputs.add(number);
    const path = joinPath(ctx.dir, tableFileName(number));
    let file: FileHandle;
    try {
      file = await ctx.fs.createWritable(path);
    } catch (e) {
      ctx.pendingOutputs.delete(number);
      throw e;
    }
    const t = ctx.table;
    const builder = new TableBuilder(file, {
      compare: compareInternalKeys,
      filterKey: filterKeyOf,
      blockSizeBytes: t.blockSizeBytes,
      restartInterval: t.blockRestartInterval,
      bloomBitsPerKey: t.bloomBitsPerKey,
    });
    return new TableOutput(number, path, file, builder);
  }

  add(key: Uint8Array, value: Uint8Array): void {
    this.builder.add(key, value);
  }

  entries(): number {
    return this.builder.entries();
  }

  estimatedSize(): number {
    return this.builder.estimatedSize();
  }

  /** Writes the index/filter/footer and syncs the file. */
  async finish(): Promise<FileMeta> {
    const r = await this.builder.finish();
    await this.file.close();
    return { number: this.number, size: r.fileSize, smallest: r.smallest, largest: r.largest };
  }

  /** Drops a table that will not be used (error, abort, or nothing written). */
  async abandon(ctx: OutputContext): Promise<void> {
    await this.builder.abandon().catch(() => {});
    await this.file.close().catch(() => {});
    await ctx.fs.remove(this.path).catch(() => {});
    ctx.pendingOutputs.delete(this.number);
  }
}
