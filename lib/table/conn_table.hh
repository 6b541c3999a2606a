// conn_table is the established-connection table of one lcore: tuple4 ->
// uint32_t slot index into that lcore's connection pool. One lcore writes it;
// its own lookups are plain loads. Any other thread (telemetry, application
// threads) may call lookup_concurrent() at any time without a lock: it never
// blocks the writer and never returns a torn entry or a false miss for a key
// that stays present while the writer moves it.
//
// Layout: bucketized cuckoo hashing, 2 candidate buckets per key, 128-byte
// buckets = a 16-byte header + 7 full entries {tuple4, value} (no separate
// key store, so a lookup touches one bucket, two at most). The header holds a
// per-bucket sequence counter (readers take a consistent snapshot of the
// bucket) and 16 four-bit counters of the entries whose primary bucket this
// is but which live in their secondary one, split by 4 bits of the hash:
// when the key's counter is 0 a lookup stops after the primary bucket. At
// capacity (1M entries, measured) 5.3% of misses and 14.4% of hits need the
// second bucket; a single counter per bucket would send 42% of misses there.
// A table-wide sequence counter is odd while the writer displaces entries
// along a cuckoo path, so a reader that read both buckets while an entry
// moved between them retries instead of reporting a miss.
//
// Inserts try the primary bucket, then the secondary one, then a bounded
// breadth-first search for the shortest displacement path (-ENOSPC when none
// is found, never an endless loop; the first failure comes at ~98% of the
// slots). The writer keeps each bucket's occupancy in a separate byte array
// (1 byte per bucket, small enough to stay in cache), so the search tests
// candidate buckets for a free slot without fetching them. Erase clears the
// slot: no tombstones, so churn never degrades the table. Bucket indices come
// from a hardware CRC32C of the tuple mapped onto a non-power-of-two bucket
// count (multiply-shift), so memory follows the requested capacity: 128 / (7
// x 0.9) + 1/(7 x 0.9) = 20.5 bytes per entry at capacity.
//
// An empty slot holds the all-zero tuple and value none, so the all-zero tuple
// cannot be inserted (it is never a valid connection: address 0 is dropped on
// input) and looking it up answers none without a special case.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include <immintrin.h>

#include <rte_pause.h>
#include <rte_seqcount.h>

#include "base/compiler.hh"
#include "base/mem.hh"
#include "base/tuple.hh"

namespace fg::table {

// Writer-side counters (owner lcore only), X-macro: name, meaning.
#define FG_CONN_TABLE_COUNTERS(X)                                                                                    \
    X(inserts, "entries inserted")                                                                                   \
    X(insert_exists, "inserts refused: key already present")                                                         \
    X(insert_nospace, "inserts refused: no displacement path found")                                                 \
    X(erases, "entries erased")                                                                                      \
    X(displaced_inserts, "inserts that needed a cuckoo displacement path")                                           \
    X(moves, "entries moved along displacement paths")

struct conn_table_stats {
#define FG_X(name, doc) uint64_t name = 0;
    FG_CONN_TABLE_COUNTERS(FG_X)
#undef FG_X
};

class conn_table {
public:
    static constexpr uint32_t none = 0xFFFFFFFFu;     // "no value": lookups return it on a miss
    static constexpr uint32_t slots_per_bucket = 7;   // 16-byte header + 7 x 16-byte entries = 128 bytes
    static constexpr double max_load = 0.90;          // capacity / slots: BFS inserts succeed well past this
                                                      // (tests fill to 95%), and 128 / (7 * 0.9) = 20.3 B/entry
    static constexpr uint32_t burst_max = 64;         // lookup_burst() keys per call (stack arrays)
    static constexpr uint32_t bfs_max_nodes = 512;    // buckets a displacement search may consider
    static constexpr uint32_t bfs_max_depth = 5;      // longest displacement path (moves), as libcuckoo
    static constexpr uint32_t hash_seed = 0x7f4a7c15u; // CRC32C initial value

    struct entry {
        tuple4 key;     // all zero when the slot is empty
        uint32_t value; // slot index in the owner's pool; none when empty
    };
    static_assert(sizeof(entry) == 16);

    struct alignas(64) bucket {
        rte_seqcount_t seq;  // odd while the writer changes this bucket
        uint32_t pad;
        uint64_t overflow;   // 16 x 4 bits: per tag(h), entries of this primary living in their
                             // secondary; 15 is sticky (never decremented: stays a safe "maybe")
        entry e[slots_per_bucket];
    };
    static_assert(sizeof(bucket) == 128, "a bucket is exactly two cache lines");

    conn_table() = default;
    ~conn_table();
    conn_table(const conn_table&) = delete;
    conn_table& operator=(const conn_table&) = delete;

    // Sizes the table so `capacity` entries fit at max_load. Memory comes from
    // fg::alloc_huge (explicit hugepages, else transparent ones), all faulted
    // in now. False if capacity is 0 or memory is short.
    bool init(uint32_t capacity);

    // The key's hash (CRC32C of the 12 bytes): compute once per packet and
    // pass it to the *_hashed variants.
    static FG_ALWAYS_INLINE uint32_t hash(const tuple4& k)
    {
        uint64_t w0;
        uint32_t w1;
        std::memcpy(&w0, &k, 8);
        std::memcpy(&w1, reinterpret_cast<const uint8_t*>(&k) + 8, 4);
        return _mm_crc32_u32(uint32_t(_mm_crc32_u64(hash_seed, w0)), w1);
    }

    // Owner lcore only.
    uint32_t lookup(const tuple4& k) const { return lookup_hashed(k, hash(k)); }
    FG_ALWAYS_INLINE uint32_t lookup_hashed(const tuple4& k, uint32_t h) const
    {
        const uint32_t b1 = primary(h);
        if (_occ[b1] == 0) {
            return none; // nothing in the bucket, nothing of it in a secondary: no fetch (see lookup_burst)
        }
        const bucket& p = _buckets[b1];
        int s = find(p, k);
        if (FG_LIKELY(s >= 0)) {
            return p.e[s].value;
        }
        if (!may_overflow(p.overflow, h)) {
            return none;
        }
        const bucket& q = _buckets[secondary(h, b1)];
        s = find(q, k);
        return s >= 0 ? q.e[s].value : none;
    }
    // n <= burst_max keys; values[i] = lookup(keys[i]). Hashes all keys,
    // prefetches every primary bucket, probes, then prefetches and probes the
    // secondary buckets only for the keys that need them.
    void lookup_burst(const tuple4* keys, uint32_t n, uint32_t* values) const;
    void prefetch(uint32_t h) const
    {
        const bucket* b = &_buckets[primary(h)];
        rte_prefetch0(b);
        rte_prefetch0(reinterpret_cast<const char*>(b) + 64);
    }
    // The primary bucket of a key about to be inserted, for writing.
    void prefetch_insert(const tuple4& k) const
    {
        const char* b = reinterpret_cast<const char*>(&_buckets[primary(hash(k))]);
        prefetch_w(b);
        prefetch_w(b + 64);
    }

    // Any thread, no lock. The answer is exact for keys that are present (or
    // absent) for the whole call; a key inserted or erased during the call may
    // be seen either way. Spins (rte_pause) only while the writer is in the
    // middle of a displacement path, i.e. a few moves. Bucket contents are
    // read with plain loads and validated by the sequence counters, as DPDK's
    // rte_seqlock readers do.
    uint32_t lookup_concurrent(const tuple4& k) const;

    // Owner lcore only. 0, -EEXIST, -ENOSPC (no free slot on any displacement
    // path within bfs_max_nodes), -EINVAL (the all-zero key or value == none).
    int insert(const tuple4& k, uint32_t v) { return insert_hashed(k, v, hash(k)); }
    int insert_hashed(const tuple4& k, uint32_t v, uint32_t h);
    // Owner lcore only: true if the key was present.
    bool erase(const tuple4& k) { return erase_hashed(k, hash(k)); }
    bool erase_hashed(const tuple4& k, uint32_t h);

    // Any thread, for telemetry dumps: f(const tuple4&, uint32_t) for each
    // entry, from a consistent snapshot of each bucket in turn. An entry
    // present for the whole walk and not displaced during it is reported
    // exactly once; one displaced by a concurrent insert (moved to a bucket
    // the walk already passed, or not yet reached) may be missed or reported
    // twice, and entries inserted or erased meanwhile may or may not appear.
    template <class F>
    void for_each_concurrent(F&& f) const
    {
        for (uint32_t i = 0; i < _n_buckets; i++) {
            entry snap[slots_per_bucket];
            uint32_t sn;
            do {
                sn = rte_seqcount_read_begin(&_buckets[i].seq);
                std::memcpy(snap, _buckets[i].e, sizeof(snap));
            } while (rte_seqcount_read_retry(&_buckets[i].seq, sn));
            for (const entry& e : snap) {
                if (!is_empty(e.key)) {
                    f(e.key, e.value);
                }
            }
        }
    }

    uint32_t size() const { return _size; }
    uint32_t capacity() const { return _capacity; }
    uint32_t buckets() const { return _n_buckets; }
    uint64_t slots() const { return uint64_t(_n_buckets) * slots_per_bucket; }
    std::size_t memory_bytes() const { return _mem.bytes; }
    // Table bytes per entry when filled to the capacity asked for in init().
    double bytes_per_entry() const { return _capacity ? double(_mem.bytes) / _capacity : 0.0; }
    bool hugepages() const { return _mem.hugetlb; }
    const conn_table_stats& stats() const { return _stats; }
    // Entries living in their secondary bucket (diagnostics, O(buckets)).
    uint64_t in_secondary() const;
    // Of those, entries whose primary bucket holds nothing now (tests: the
    // owner's lookup_burst must still find them -- see occ_overflow).
    uint64_t in_secondary_of_empty_primary() const;

    static constexpr uint32_t overflow_sticky = 15; // a 4-bit overflow counter that reached 15 stays
    // The overflow counter a key with hash h counts in (low bits: the bucket
    // index uses the high bits).
    static uint32_t tag(uint32_t h) { return h & 15; }
    static FG_ALWAYS_INLINE bool may_overflow(uint64_t overflow, uint32_t h)
    {
        return ((overflow >> (4 * tag(h))) & 15) != 0;
    }

    // Bucket indices of a hash (exposed for tests and the benchmark).
    FG_ALWAYS_INLINE uint32_t primary(uint32_t h) const { return uint32_t((uint64_t(h) * _n_buckets) >> 32); }
    FG_ALWAYS_INLINE uint32_t secondary(uint32_t h, uint32_t b1) const
    {
        // Golden-ratio multiply: keys sharing a primary bucket differ in the
        // low bits of h, which this spreads over the whole table.
        const uint32_t h2 = uint32_t((uint64_t(h) * 0x9E3779B97F4A7C15ull) >> 32);
        uint32_t b2 = uint32_t((uint64_t(h2) * _n_buckets) >> 32);
        if (FG_UNLIKELY(b2 == b1)) {
            b2 = b1 + 1 == _n_buckets ? 0 : b1 + 1;
        }
        return b2;
    }

private:
    static bool is_empty(const tuple4& k)
    {
        return k.laddr == 0 && k.raddr == 0 && k.lport == 0 && k.rport == 0;
    }

    // Slot of k in b, or -1. Compares all 7 keys at once.
    static FG_ALWAYS_INLINE int find(const bucket& b, const tuple4& k)
    {
        // Cell c (16 bytes) of the bucket: c = 0 header, c = 1..7 entry c-1.
        // m has 4 bits per cell (one per dword equal to the key's dword);
        // a cell matches when its first three dwords (the tuple) all match.
        const char* base = reinterpret_cast<const char*>(&b);
#if defined(__AVX512F__)
        const int ports = int(uint32_t(k.lport) | (uint32_t(k.rport) << 16));
        const __m512i kv = _mm512_set4_epi32(0, ports, int(k.raddr), int(k.laddr));
        const uint32_t m0 = _mm512_mask_cmpeq_epi32_mask(0x7770, _mm512_load_si512(base), kv);
        const uint32_t m1 = _mm512_mask_cmpeq_epi32_mask(0x7777, _mm512_load_si512(base + 64), kv);
        const uint32_t m = m0 | (m1 << 16);
#elif defined(__AVX2__)
        const int ports = int(uint32_t(k.lport) | (uint32_t(k.rport) << 16));
        const __m256i kv = _mm256_setr_epi32(int(k.laddr), int(k.raddr), ports, 0, int(k.laddr), int(k.raddr), ports, 0);
        uint32_t m = 0;
        for (int i = 0; i < 4; i++) {
            const __m256i c = _mm256_cmpeq_epi32(_mm256_load_si256(reinterpret_cast<const __m256i*>(base + 32 * i)), kv);
            m |= uint32_t(_mm256_movemask_ps(_mm256_castsi256_ps(c))) << (8 * i);
        }
#else
        const __m128i kv = _mm_setr_epi32(int(k.laddr), int(k.raddr),
                                          int(uint32_t(k.lport) | (uint32_t(k.rport) << 16)), 0);
        uint32_t m = 0;
        for (int i = 1; i < 8; i++) {
            const __m128i c = _mm_cmpeq_epi32(_mm_load_si128(reinterpret_cast<const __m128i*>(base + 16 * i)), kv);
            m |= uint32_t(_mm_movemask_ps(_mm_castsi128_ps(c))) << (4 * i);
        }
#endif
        const uint32_t hit = m & (m >> 1) & (m >> 2) & 0x11111110u;
        if (hit == 0) {
            return -1;
        }
        return int(__builtin_ctz(hit) >> 2) - 1;
    }

    // One consistent read of bucket b: value of k (or none) and its overflow.
    FG_ALWAYS_INLINE uint32_t read_bucket(const bucket& b, const tuple4& k, uint64_t* overflow) const
    {
        uint32_t v;
        uint32_t sn;
        do {
            sn = rte_seqcount_read_begin(&b.seq);
            const int s = find(b, k);
            v = s >= 0 ? b.e[s].value : none;
            *overflow = b.overflow;
        } while (rte_seqcount_read_retry(&b.seq, sn));
        return v;
    }

    struct bfs_node {
        uint32_t bucket; // bucket this node stands for
        int16_t parent;  // node whose entry moves into this bucket, -1 for a root
        uint8_t slot;    // slot in the parent's bucket holding that entry
        uint8_t depth;   // moves from the root
    };

    void put(uint32_t b, int slot, const tuple4& k, uint32_t v);
    void clear(uint32_t b, int slot);
    void add_overflow(uint32_t b, uint32_t h, int delta);
    int insert_with_moves(const tuple4& k, uint32_t v, uint32_t b1, uint32_t b2);
    uint32_t alt_of(uint32_t b, const tuple4& k) const
    {
        const uint32_t h = hash(k);
        const uint32_t p = primary(h);
        return p == b ? secondary(h, p) : p;
    }

    bucket* _buckets = nullptr;
    uint8_t* _occ = nullptr; // per bucket, bit i: e[i] holds an entry; occ_overflow: overflow != 0 (writer only)
    // _occ bit 7: the bucket's overflow counters are not all zero. A zero
    // byte is a proof of absence for lookup_burst(): nothing in the bucket,
    // nothing of its keys in their secondary.
    static constexpr uint8_t occ_overflow = 0x80;
    uint32_t _n_buckets = 0;
    uint32_t _capacity = 0;
    uint32_t _size = 0;
    huge_region _mem;
    conn_table_stats _stats;
    // Odd while entries move along a displacement path. Own cache line: it
    // is read by every concurrent lookup and written only on displacement
    // (alignas(64) also rounds sizeof(conn_table) up, so nothing follows it
    // on that line: no explicit padding needed, which clang would call an
    // unused private field).
    alignas(64) rte_seqcount_t _moves = RTE_SEQCOUNT_INITIALIZER;
};

} // namespace fg::table
