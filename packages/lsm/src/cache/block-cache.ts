/**
 * An LRU cache of decoded table blocks, bounded by bytes. Shared by every table of a database.
 * Blocks are immutable, so a cached block can be handed to many readers at once.
 *
 * Buffer recycling. Random reads over a database much larger than the cache replace a cached
 * block on nearly every read. Allocating a fresh buffer for each one and leaving the evicted one
 * to the garbage collector cost an allocation and page faults per read, and let tens of
 * megabytes of dead blocks pile up between major collections (V8 collects an array buffer only
 * when its owner dies, and cached blocks live long enough to reach the old generation). So a
 * block whose buffer is its own (`recyclable`) gives that buffer to a short free list when it
 * leaves the cache, and the next miss reads into it (takeBuffer). That is safe only when nobody
 * still looks at the block, which callers declare in one of three ways:
 *
 * - get(..., share = false): the caller uses the block within its current synchronous call
 *   (point lookups), so the block may be recycled whenever it is evicted;
 * - pin() / setPinned(): the caller holds a pin until unpin() (table iterators, which release
 *   a block when they move off it); an evicted block is recycled at its last unpin;
 * - get(..., share = true), the default: the caller may keep the block for good, which makes it
 *   non-recyclable for the rest of its life.
 */

import { InvalidArgumentError } from "../errors.js";

/** Bookkeeping charged per cached block on top of its bytes (map entry, list node, views). */
export const BLOCK_CACHE_ENTRY_OVERHEAD_BYTES = 96;

/** Evicted blocks' buffers kept for reuse (a few are enough: each miss takes one). */
const MAX_FREE_BUFFERS = 16;

/** A block pinned in the cache: valid (and not recycled) until unpinned. */
export interface PinnedBlock {
  readonly block: Uint8Array;
}

class Node implements PinnedBlock {
  fileNumber = 0;
  offset = 0;
  block: Uint8Array = EMPTY;
  charge = 0;
  /** block.buffer is this block's alone and no one keeps the block beyond a pin. */
  recyclable = false;
  /** Pins held (pin/setPinned minus unpin). */
  pins = 0;
  /** In the LRU list and the map (false once evicted or replaced). */
  cached = true;
  prev: Node | null = null;
  next: Node | null = null;

  init(fileNumber: number, offset: number, block: Uint8Array, recyclable: boolean): this {
    this.fileNumber = fileNumber;
    this.offset = offset;
    this.block = block;
    this.recyclable = recyclable;
    this.charge =
      (recyclable ? block.buffer.byteLength : block.byteLength) + BLOCK_CACHE_ENTRY_OVERHEAD_BYTES;
    this.pins = 0;
    this.cached = true;
    return this;
  }
}

const EMPTY = new Uint8Array(0);

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
  private readonly free: ArrayBuffer[] = [];
  // Nodes of recycled blocks, reused for new entries: cached blocks live long enough to reach
  // V8's old generation, so a node per miss would be old-generation garbage per miss.
  private readonly spareNodes: Node[] = [];

  constructor(readonly capacityBytes: number) {
    if (!(Number.isFinite(capacityBytes) && capacityBytes >= 0)) {
      throw new InvalidArgumentError(`block cache capacity must be >= 0, got ${capacityBytes}`);
    }
  }

  /**
   * The cached block, or undefined. `share` (default true) says the caller may keep the block
   * after its current synchronous call; then its buffer is never recycled.
   */
  get(fileNumber: number, offset: number, share = true): Uint8Array | undefined {
    const node = this.lookup(fileNumber, offset);
    if (node === undefined) return undefined;
    if (share) node.recyclable = false;
    return node.block;
  }

  /** The cached block, pinned until unpin(), or undefined. */
  pin(fileNumber: number, offset: number): PinnedBlock | undefined {
    const node = this.lookup(fileNumber, offset);
    if (node !== undefined) node.pins++;
    return node;
  }

  /**
   * Inserts (or replaces) a block; evicts least recently used blocks beyond capacity.
   * `recyclable`: block.buffer belongs to this block alone (it starts at offset 0) and nobody
   * keeps the block beyond the current synchronous call; its buffer (charged whole) is reused
   * after eviction.
   */
  set(fileNumber: number, offset: number, block: Uint8Array, recyclable = false): void {
    this.insert(fileNumber, offset, block, recyclable);
  }

  /**
   * Inserts a block whose buffer is its own, pinned once (unpin() when done with it and every
   * view of it). Returns undefined if the block is too large to cache: it is then simply the
   * caller's.
   */
  setPinned(fileNumber: number, offset: number, block: Uint8Array): PinnedBlock | undefined {
    const node = this.insert(fileNumber, offset, block, true);
    if (node !== undefined) node.pins++;
    return node;
  }

  /** Releases a pin from pin() or setPinned(). Anything else is ignored. */
  unpin(pinned: PinnedBlock | undefined): void {
    if (!(pinned instanceof Node) || pinned.pins <= 0) return;
    if (--pinned.pins === 0 && !pinned.cached) this.recycle(pinned);
  }

  /**
   * A buffer of at least `bytes` bytes recycled from an evicted block, or undefined. The caller
   * owns it (and may insert a block over it with recyclable = true).
   */
  takeBuffer(bytes: number): ArrayBuffer | undefined {
    const free = this.free;
    for (let i = free.length - 1; i >= 0; i--) {
      const b = free[i]!;
      if (b.byteLength >= bytes) {
        free[i] = free[free.length - 1]!;
        free.pop();
        return b;
      }
    }
    return undefined;
  }

  /** Drops every block of a file (the file was deleted). */
  evictFile(fileNumber: number): void {
    const perFile = this.files.get(fileNumber);
    if (perFile === undefined) return;
    for (const node of [...perFile.values()]) this.removeNode(node, perFile);
    this.files.delete(fileNumber);
  }

  clear(): void {
    for (let n = this.head; n !== null; n = n.next) n.cached = false;
    this.free.length = 0;
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

  private lookup(fileNumber: number, offset: number): Node | undefined {
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
    return node;
  }

  private insert(
    fileNumber: number,
    offset: number,
    block: Uint8Array,
    recyclable: boolean,
  ): Node | undefined {
    const own = recyclable && block.byteOffset === 0 && block.buffer instanceof ArrayBuffer;
    const charge =
      (own ? block.buffer.byteLength : block.byteLength) + BLOCK_CACHE_ENTRY_OVERHEAD_BYTES;
    if (charge > this.capacityBytes) return undefined;
    const node = (this.spareNodes.pop() ?? new Node()).init(fileNumber, offset, block, own);
    // Remove a block being replaced first: removing a file's last block drops its map.
    const old = this.files.get(fileNumber)?.get(offset);
    if (old !== undefined) this.removeNode(old, this.files.get(fileNumber)!);
    let perFile = this.files.get(fileNumber);
    if (perFile === undefined) {
      perFile = new Map();
      this.files.set(fileNumber, perFile);
    }
    perFile.set(offset, node);
    this.pushFront(node);
    this.bytes += node.charge;
    this.count++;
    while (this.bytes > this.capacityBytes && this.tail !== null) {
      const victim = this.tail;
      this.removeNode(victim, this.files.get(victim.fileNumber)!);
      this.evictions++;
    }
    return node;
  }

  private removeNode(node: Node, perFile: Map<number, Node>): void {
    this.unlink(node);
    perFile.delete(node.offset);
    if (perFile.size === 0) this.files.delete(node.fileNumber);
    this.bytes -= node.charge;
    this.count--;
    node.cached = false;
    if (node.pins === 0) this.recycle(node);
  }

  private recycle(node: Node): void {
    if (!node.recyclable) return;
    // Once only: the buffer now belongs to the free list (and then to some other block), and
    // the node (unreachable now but for pins, which are all released) to the next entry.
    node.recyclable = false;
    if (this.free.length < MAX_FREE_BUFFERS) this.free.push(node.block.buffer as ArrayBuffer);
    node.block = EMPTY;
    if (this.spareNodes.length < MAX_FREE_BUFFERS) this.spareNodes.push(node);
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
