/**
 * The version set owns the current Version, the counters that must survive a restart (next file
 * number, last sequence, WAL log number) and the MANIFEST they are recorded in.
 *
 * Every change of the file set goes through logAndApply(edit): the edit is appended to the
 * manifest and synced before the new version becomes current, so the manifest never lags behind
 * what readers see, and a crash in between leaves the previous (still consistent) version.
 *
 * When the manifest grows past maxManifestBytes (and at every open) a new manifest holding one
 * snapshot edit is written and synced, its directory entry synced, and only then is CURRENT
 * replaced atomically (temp file + sync + rename + directory sync). The old manifest is deleted
 * afterwards. A crash at any point leaves CURRENT naming a complete manifest.
 */

import { CorruptionError, InvalidArgumentError, LsmError, NotFoundFileError } from "../errors.js";
import { CURRENT_FILE, joinPath, manifestFileName } from "../filenames.js";
import type { FileHandle, FileSystem } from "../fs/types.js";
import { compareInternalKeys, compareUserKeysOf } from "../internal-key.js";
import { readLogWithStatus } from "../wal/log-reader.js";
import { LogWriter } from "../wal/log-writer.js";
import type { FileMeta } from "./file-meta.js";
import { Version } from "./version.js";
import { COMPARATOR_NAME, VersionEdit } from "./version-edit.js";

export interface VersionSetOptions {
  numLevels: number;
  l0CompactionTrigger: number;
  maxBytesForLevelBase: number;
  levelSizeMultiplier: number;
  maxManifestBytes: number;
}

export class VersionSet {
  current: Version;
  nextFileNumber = 2;
  lastSequence = 0;
  /** WAL files with a number below this are fully reflected in tables. */
  logNumber = 0;
  manifestNumber = 0;
  /** Per level, the largest key of the last compaction, so compactions rotate over the keys. */
  readonly compactPointers: (Uint8Array | undefined)[];
  private manifest: LogWriter | null = null;
  private readonly liveVersions = new Set<Version>();
  private applying: Promise<void> = Promise.resolve();
  /** Manifest bytes written, for stats. */
  manifestWrites = 0;

  constructor(
    private readonly fs: FileSystem,
    private readonly dir: string,
    private readonly options: VersionSetOptions,
  ) {
    this.current = new Version(emptyLevels(options.numLevels));
    this.compactPointers = new Array<Uint8Array | undefined>(options.numLevels).fill(undefined);
    this.computeScore(this.current);
    this.ref(this.current);
  }

  newFileNumber(): number {
    return this.nextFileNumber++;
  }

  markFileNumberUsed(n: number): void {
    if (n >= this.nextFileNumber) this.nextFileNumber = n + 1;
  }

  maxBytesForLevel(level: number): number {
    let r = this.options.maxBytesForLevelBase;
    for (let l = 1; l < level; l++) r *= this.options.levelSizeMultiplier;
    return r;
  }

  ref(v: Version): void {
    if (v.refs++ === 0) this.liveVersions.add(v);
  }

  /** Drops a reference; returns true if the version died (its files may now be obsolete). */
  unref(v: Version): boolean {
    if (--v.refs === 0) {
      this.liveVersions.delete(v);
      return true;
    }
    return false;
  }

  /** Numbers of every table file some live version lists. */
  liveFiles(): Set<number> {
    const s = new Set<number>();
    for (const v of this.liveVersions) v.allFileNumbers(s);
    this.current.allFileNumbers(s);
    return s;
  }

  /**
   * Reads CURRENT and replays the manifest it names. Throws NotFoundFileError if there is no
   * CURRENT (no database), CorruptionError if the manifest is damaged.
   */
  async recover(): Promise<void> {
    const currentPath = joinPath(this.dir, CURRENT_FILE);
    const text = new TextDecoder().decode(await this.fs.readFile(currentPath));
    if (!/^MANIFEST-\d+\n$/.test(text)) {
      throw new CorruptionError(
        currentPath,
        0,
        `CURRENT does not name a manifest: ${JSON.stringify(text)}`,
      );
    }
    const name = text.slice(0, -1);
    const path = joinPath(this.dir, name);
    let log: Awaited<ReturnType<typeof readLogWithStatus>>;
    try {
      log = await readLogWithStatus(this.fs, path);
    } catch (e) {
      throw new CorruptionError(currentPath, 0, `CURRENT names ${name}, which cannot be read`, {
        cause: e,
      });
    }
    const first = log.corruptions[0];
    if (first !== undefined) {
      throw new CorruptionError(path, first.offset, `manifest: ${first.reason}`);
    }
    const levels = emptyLevels(this.options.numLevels).map(() => new Map<number, FileMeta>());
    let logNumber: number | undefined;
    let nextFile: number | undefined;
    let lastSeq: number | undefined;
    let offsetHint = 0;
    for (const rec of log.records) {
      const edit = VersionEdit.decode(rec, path, offsetHint, this.options.numLevels);
      offsetHint += rec.length;
      if (edit.comparator !== undefined && edit.comparator !== COMPARATOR_NAME) {
        throw new InvalidArgumentError(
          `database uses comparator ${edit.comparator}, this engine only knows ${COMPARATOR_NAME}`,
        );
      }
      for (const d of edit.deletedFiles) levels[d.level]!.delete(d.number);
      for (const { level, file } of edit.newFiles) levels[level]!.set(file.number, file);
      for (const p of edit.compactPointers) this.compactPointers[p.level] = p.key;
      if (edit.logNumber !== undefined) logNumber = edit.logNumber;
      if (edit.nextFileNumber !== undefined) nextFile = edit.nextFileNumber;
      if (edit.lastSequence !== undefined) lastSeq = edit.lastSequence;
    }
    if (logNumber === undefined || nextFile === undefined || lastSeq === undefined) {
      throw new CorruptionError(
        path,
        log.validEnd,
        "manifest lacks log number, next file number or last sequence",
      );
    }
    const files = levels.map((m) => [...m.values()]);
    const v = this.makeVersion(files);
    checkLevels(v, path);
    this.installVersion(v);
    this.logNumber = logNumber;
    this.nextFileNumber = nextFile;
    this.lastSequence = lastSeq;
    this.manifestNumber = Number(/\d+$/.exec(name)![0]);
    this.markFileNumberUsed(this.manifestNumber);
    this.markFileNumberUsed(logNumber);
    for (const level of files) for (const f of level) this.markFileNumberUsed(f.number);
  }

  /**
   * Applies `edit` to the current version, records it in the manifest (synced) and makes the
   * result current. Calls are serialised. On failure the current version is unchanged and the
   * manifest is abandoned (the next call writes a fresh one), since a half-written record may
   * sit at its end.
   */
  logAndApply(edit: VersionEdit): Promise<void> {
    const run = this.applying.then(() => this.doLogAndApply(edit));
    this.applying = run.catch(() => {});
    return run;
  }

  private async doLogAndApply(edit: VersionEdit): Promise<void> {
    if (edit.logNumber === undefined) edit.logNumber = this.logNumber;
    edit.nextFileNumber = this.nextFileNumber;
    edit.lastSequence = this.lastSequence;
    const v = this.apply(this.current, edit);
    try {
      if (this.manifest === null || this.manifest.size() >= this.options.maxManifestBytes) {
        // Writes v (which includes edit) as the snapshot of a new manifest.
        await this.writeNewManifest(v, edit);
      } else {
        this.manifest.addRecord(edit.encode());
        await this.manifest.sync();
        this.manifestWrites++;
      }
    } catch (e) {
      const m = this.manifest;
      this.manifest = null;
      await m?.close().catch(() => {});
      throw e;
    }
    for (const p of edit.compactPointers) this.compactPointers[p.level] = p.key;
    this.logNumber = edit.logNumber;
    this.installVersion(v);
  }

  /** Writes a new manifest containing `v`, then points CURRENT at it. */
  private async writeNewManifest(v: Version, edit: VersionEdit): Promise<void> {
    const number = this.newFileNumber();
    const snapshot = new VersionEdit();
    snapshot.comparator = COMPARATOR_NAME;
    snapshot.logNumber = edit.logNumber;
    snapshot.nextFileNumber = this.nextFileNumber;
    snapshot.lastSequence = edit.lastSequence;
    for (let level = 0; level < this.compactPointers.length; level++) {
      const key =
        edit.compactPointers.find((p) => p.level === level)?.key ?? this.compactPointers[level];
      if (key !== undefined) snapshot.compactPointers.push({ level, key });
    }
    for (let level = 0; level < v.files.length; level++) {
      for (const f of v.files[level]!) snapshot.addFile(level, f);
    }
    const name = manifestFileName(number);
    const path = joinPath(this.dir, name);
    let file: FileHandle | undefined;
    let writer: LogWriter | undefined;
    try {
      file = await this.fs.createWritable(path);
      writer = new LogWriter(file, { initialOffset: 0 });
      writer.addRecord(snapshot.encode());
      await writer.sync();
      await this.fs.syncDir(this.dir);
      await this.fs.writeFileAtomic(
        joinPath(this.dir, CURRENT_FILE),
        new TextEncoder().encode(`${name}\n`),
      );
    } catch (e) {
      await (writer ?? file)?.close().catch(() => {});
      await this.fs.remove(path).catch(() => {});
      throw e;
    }
    const old = this.manifest;
    const oldNumber = this.manifestNumber;
    this.manifest = writer;
    this.manifestNumber = number;
    this.manifestWrites++;
    if (old !== null) await old.close().catch(() => {});
    if (oldNumber !== 0 && oldNumber !== number) {
      // Obsolete now that CURRENT is durable; a leftover after a crash is removed at open.
      await this.fs.remove(joinPath(this.dir, manifestFileName(oldNumber))).catch(() => {});
    }
  }

  /** Starts a fresh manifest now (at open, so the recovered one is compacted to one record). */
  async rollManifest(): Promise<void> {
    const e = new VersionEdit();
    e.logNumber = this.logNumber;
    const run = this.applying.then(async () => {
      e.nextFileNumber = this.nextFileNumber;
      e.lastSequence = this.lastSequence;
      const m = this.manifest;
      this.manifest = null;
      await m?.close().catch(() => {});
      await this.writeNewManifest(this.current, e);
    });
    this.applying = run.catch(() => {});
    return run;
  }

  async close(): Promise<void> {
    await this.applying;
    const m = this.manifest;
    this.manifest = null;
    await m?.close();
  }

  private apply(base: Version, edit: VersionEdit): Version {
    const files = base.files.map((l) => [...l]);
    for (const d of edit.deletedFiles) {
      const level = files[d.level]!;
      const i = level.findIndex((f) => f.number === d.number);
      if (i < 0) {
        throw new NotFoundFileError(
          `table ${d.number} at level ${d.level} (edit deletes a file that is not there)`,
        );
      }
      level.splice(i, 1);
    }
    for (const { level, file } of edit.newFiles) files[level]!.push(file);
    const v = this.makeVersion(files);
    // A bug that let two files of a level >= 1 overlap would make reads return stale data;
    // refuse such an edit (the database stops with the error) rather than install it.
    const touched = new Set(edit.newFiles.map((f) => f.level).filter((l) => l > 0));
    for (const level of touched) {
      const fl = v.files[level]!;
      for (let i = 1; i < fl.length; i++) {
        if (compareUserKeysOf(fl[i - 1]!.largest, fl[i]!.smallest) >= 0) {
          throw new LsmError(
            `internal error: edit would make tables ${fl[i - 1]!.number} and ${fl[i]!.number} overlap in level ${level}`,
          );
        }
      }
    }
    return v;
  }

  private makeVersion(files: FileMeta[][]): Version {
    files[0]!.sort((a, b) => b.number - a.number);
    for (let level = 1; level < files.length; level++) {
      files[level]!.sort((a, b) => compareInternalKeys(a.smallest, b.smallest));
    }
    const v = new Version(files);
    this.computeScore(v);
    return v;
  }

  private installVersion(v: Version): void {
    const old = this.current;
    this.current = v;
    this.ref(v);
    this.unref(old);
  }

  /** leveldb's scoring: L0 by file count, deeper levels by bytes over their budget. */
  computeScore(v: Version): void {
    let bestLevel = -1;
    let bestScore = -1;
    for (let level = 0; level < v.numLevels - 1; level++) {
      const score =
        level === 0
          ? v.files[0]!.length / this.options.l0CompactionTrigger
          : v.levelBytes(level) / this.maxBytesForLevel(level);
      if (score > bestScore) {
        bestScore = score;
        bestLevel = level;
      }
    }
    v.compactionLevel = bestLevel;
    v.compactionScore = bestScore;
  }
}

function emptyLevels(n: number): FileMeta[][] {
  return Array.from({ length: n }, () => []);
}

/** Levels >= 1 must be sorted and non-overlapping; anything else means a damaged manifest. */
function checkLevels(v: Version, path: string): void {
  for (let level = 1; level < v.files.length; level++) {
    const files = v.files[level]!;
    for (let i = 1; i < files.length; i++) {
      if (compareInternalKeys(files[i - 1]!.largest, files[i]!.smallest) >= 0) {
        throw new CorruptionError(
          path,
          0,
          `level ${level} files ${files[i - 1]!.number} and ${files[i]!.number} overlap`,
        );
      }
    }
  }
}
