/**
 * An LRU cache of decoded table blocks, bounded by bytes. Shared by every table of a database.
 * Blocks are immutable, so a cached block can be handed to many iterators at once.
 */

import { InvalidArgumentError } from "../errors.js";

/** Bookkeeping charged per cached block on top of its bytes (map entry, list node, views). */
export const BLOCK_CACHE_ENTRY_OVERHEAD_BYTES = 96;

interface Node {
  fileNumber: number;
  offset: number;
  block: Uint8Array;
  charge: number;
  prev: Node | null;
  next: Node | null;
}

export interface BlockCacheStats {
  hits: number;
  misses: number;
  bytes: number;
  capacityBytes: number;
  entries: number;
  evictions: number;
}

export class BlockCache {
  private readonly files = new Map<number, Map<number, Node>>();
  // Most recently used at head, eviction from tail.
  private head: Node | null = null;
  private tail: Node | null = null;
  private bytes = 0;
  private count = 0;
  private hits = 0;
  private misses = 0;
  private evictions = 0;

  constructor(readonly capacityBytes: number) {
    if (!(Number.isFinite(capacityBytes) && capacityBytes >= 0)) {
      throw new InvalidArgumentError(`block cache capacity must be >= 0, got ${capacityBytes}`);
    }
  }

  get(fileNumber: number, offset: number): Uint8Array | undefined {
    const node = this.files.get(fileNumber)?.get(offset);
    if (node === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    if (node !== this.head) {
      this.unlink(node);
      this.pushFront(node);
    }
    return node.block;
  }

  /** Inserts (or replaces) a block; evicts least recently used blocks beyond capacity. */
  set(fileNumber: number, offset: number, block: Uint8Array): void {
    const charge = block.byteLength + BLOCK_CACHE_ENTRY_OVERHEAD_BYTES;
    if (charge > this.capacityBytes) return;
    // Remove a block being replaced first: removing a file's last block drops its map.
    const old = this.files.get(fileNumber)?.get(offset);
    if (old !== undefined) this.removeNode(old, this.files.get(fileNumber)!);
    let perFile = this.files.get(fileNumber);
    if (perFile === undefined) {
      perFile = new Map();
      this.files.set(fileNumber, perFile);
    }
    const node: Node = { fileNumber, offset, block, charge, prev: null, next: null };
    perFile.set(offset, node);
    this.pushFront(node);
    this.bytes += charge;
    this.count++;
    while (this.bytes > this.capacityBytes && this.tail !== null) {
      const victim = this.tail;
      this.removeNode(victim, this.files.get(victim.fileNumber)!);
      this.evictions++;
    }
  }

  /** Drops every block of a file (the file was deleted). */
  evictFile(fileNumber: number): void {
    const perFile = this.files.get(fileNumber);
    if (perFile === undefined) return;
    for (const node of [...perFile.values()]) this.removeNode(node, perFile);
    this.files.delete(fileNumber);
  }

  clear(): void {
    this.files.clear();
    this.head = null;
    this.tail = null;
    this.bytes = 0;
    this.count = 0;
  }

  stats(): BlockCacheStats {
    return {
      hits: this.hits,
      misses: this.misses,
      bytes: this.bytes,
      capacityBytes: this.capacityBytes,
      entries: this.count,
      evictions: this.evictions,
    };
  }

  private removeNode(node: Node, perFile: Map<number, Node>): void {
    this.unlink(node);
    perFile.delete(node.offset);
    if (perFile.size === 0) this.files.delete(node.fileNumber);
    this.bytes -= node.charge;
    this.count--;
  }

  private unlink(node: Node): void {
    if (node.prev !== null) node.prev.next = node.next;
    else this.head = node.next;
    if (node.next !== null) node.next.prev = node.prev;
    else this.tail = node.prev;
    node.prev = null;
    node.next = null;
  }

  private pushFront(node: Node): void {
    node.next = this.head;
    node.prev = null;
    if (this.head !== null) this.head.prev = node;
    this.head = node;
    if (this.tail === null) this.tail = node;
  }
}
