/**
 * Admits a key to a cache on its second sighting. Caching every never-seen shell line made
 * each one outlive the young generation (a cache holds it), so every scavenge copied and
 * promoted hundreds of them; most lines an agent sends are never seen again. This remembers
 * only a 32-bit hash per slot in a typed array: nothing the GC has to trace. A collision
 * admits a key early, which costs one cache entry and nothing else.
 */
export class Doorkeeper {
  private readonly slots: Int32Array;
  private readonly mask: number;

  constructor(bits = 17) {
    this.slots = new Int32Array(1 << bits);
    this.mask = (1 << bits) - 1;
  }

  /** True when `key` (probably) came by before; records it either way. */
  admit(key: string): boolean {
    // FNV-1a; 0 marks an empty slot.
    let h = 0x811c9dc5;
    for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
    return this.admitHash(h | 0 || 1);
  }

  /** As admit, for a hash the caller computed (non-zero, 32-bit). */
  admitHash(h: number): boolean {
    const slot = (h ^ (h >>> 15)) & this.mask;
    if (this.slots[slot] === h) return true;
    this.slots[slot] = h;
    return false;
  }

  clear(): void {
    this.slots.fill(0);
  }
}
