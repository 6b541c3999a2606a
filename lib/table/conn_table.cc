#include "table/conn_table.hh"

#include <cerrno>
#include <cmath>

namespace fg::table {

conn_table::~conn_table()
{
    free_huge(_mem);
}

bool conn_table::init(uint32_t capacity)
{
    if (capacity == 0 || _buckets != nullptr) {
        return false;
    }
    const double want = std::ceil(double(capacity) / (slots_per_bucket * max_load));
    if (want > double(UINT32_MAX)) {
        return false;
    }
    _n_buckets = uint32_t(want) < 2 ? 2 : uint32_t(want);
    // Not populated by alloc_huge(): its MAP_POPULATE would fault the pages
    // in as 4 KB pages before the transparent-hugepage advice is given. The
    // loop below touches every page after the advice, so THP (when no
    // explicit hugepages are reserved) backs the table with 2 MB pages: one
    // TLB entry per 16K buckets instead of per 32.
    _mem = alloc_huge(std::size_t(_n_buckets) * (sizeof(bucket) + 1), false);
    if (_mem.ptr == nullptr) {
        _n_buckets = 0;
        return false;
    }
    // alloc_huge() hands out zeroed, page-aligned memory: keys and counters
    // are 0 already; empty slots also carry value none, so a lookup of the
    // all-zero key (which matches empty slots) answers none.
    _buckets = static_cast<bucket*>(_mem.ptr);
    _occ = reinterpret_cast<uint8_t*>(_buckets + _n_buckets);
    for (uint32_t b = 0; b < _n_buckets; b++) {
        for (entry& e : _buckets[b].e) {
            e.value = none;
        }
    }
    for (std::size_t off = std::size_t(_n_buckets) * sizeof(bucket); off < _mem.bytes; off += 4096) {
        static_cast<volatile uint8_t*>(_mem.ptr)[off] = 0; // fault in the occupancy bytes too
    }
    _capacity = capacity;
    _size = 0;
    return true;
}

void conn_table::lookup_burst(const tuple4* keys, uint32_t n, uint32_t* values) const
{
    uint32_t h[burst_max];
    uint32_t b1[burst_max];
    if (n > burst_max) {
        n = burst_max;
    }
    // Three passes: hash and prefetch each key's occupancy byte; fetch the
    // primary bucket only where that byte says it holds an entry or has
    // overflowed into a secondary (a bucket is two lines in memory of 20 B
    // per connection, the bytes are 1/128 of that and mostly in cache: a
    // SYN's lookup, which misses, then costs no memory access at all while
    // the table is sparse); then search.
    for (uint32_t i = 0; i < n; i++) {
        h[i] = hash(keys[i]);
        b1[i] = primary(h[i]);
        rte_prefetch0(&_occ[b1[i]]);
    }
    uint64_t look = 0;
    for (uint32_t i = 0; i < n; i++) {
        values[i] = none;
        if (_occ[b1[i]] != 0) {
            look |= uint64_t(1) << i;
            const char* p = reinterpret_cast<const char*>(&_buckets[b1[i]]);
            rte_prefetch0(p);
            rte_prefetch0(p + 64);
        }
    }
    uint64_t need2 = 0;
    for (uint64_t m = look; m != 0; m &= m - 1) {
        const uint32_t i = uint32_t(__builtin_ctzll(m));
        const bucket& p = _buckets[b1[i]];
        const int s = find(p, keys[i]);
        if (FG_LIKELY(s >= 0)) {
            values[i] = p.e[s].value;
            continue;
        }
        if (may_overflow(p.overflow, h[i])) {
            need2 |= uint64_t(1) << i;
            b1[i] = secondary(h[i], b1[i]); // reuse the array for the secondary bucket
            const char* q = reinterpret_cast<const char*>(&_buckets[b1[i]]);
            rte_prefetch0(q);
            rte_prefetch0(q + 64);
        }
    }
    while (need2 != 0) {
        const uint32_t i = uint32_t(__builtin_ctzll(need2));
        need2 &= need2 - 1;
        const bucket& q = _buckets[b1[i]];
        const int s = find(q, keys[i]);
        if (s >= 0) {
            values[i] = q.e[s].value;
        }
    }
}

uint32_t conn_table::lookup_concurrent(const tuple4& k) const
{
    const uint32_t h = hash(k);
    const uint32_t b1 = primary(h);
    for (;;) {
        const uint32_t moves = rte_seqcount_read_begin(&_moves);
        uint64_t overflow;
        uint32_t v = read_bucket(_buckets[b1], k, &overflow);
        if (v != none) {
            // Seen in a consistent snapshot of its bucket: it was there, with
            // this value, at that moment. No need to look at _moves.
            return v;
        }
        if (may_overflow(overflow, h)) {
            uint64_t unused;
            v = read_bucket(_buckets[secondary(h, b1)], k, &unused);
            if (v != none) {
                return v;
            }
        }
        // A miss is only trusted if no entry moved between buckets meanwhile.
        if (!rte_seqcount_read_retry(&_moves, moves)) {
            return none;
        }
        rte_pause();
    }
}

void conn_table::put(uint32_t b, int slot, const tuple4& k, uint32_t v)
{
    bucket& q = _buckets[b];
    rte_seqcount_write_begin(&q.seq);
    q.e[slot].key = k;
    q.e[slot].value = v;
    _occ[b] = uint8_t(_occ[b] | (1u << slot));
    rte_seqcount_write_end(&q.seq);
}

void conn_table::clear(uint32_t b, int slot)
{
    bucket& q = _buckets[b];
    rte_seqcount_write_begin(&q.seq);
    q.e[slot] = entry{tuple4{}, none};
    _occ[b] = uint8_t(_occ[b] & ~(1u << slot));
    rte_seqcount_write_end(&q.seq);
}

void conn_table::add_overflow(uint32_t b, uint32_t h, int delta)
{
    bucket& q = _buckets[b];
    const uint32_t shift = 4 * tag(h);
    const uint64_t c = (q.overflow >> shift) & 15;
    if (c == overflow_sticky) {
        return; // saturated: stays "maybe in the secondary" for good
    }
    const uint64_t next = delta > 0 ? c + 1 : c - 1;
    rte_seqcount_write_begin(&q.seq);
    q.overflow = (q.overflow & ~(uint64_t(15) << shift)) | (next << shift);
    rte_seqcount_write_end(&q.seq);
    _occ[b] = uint8_t(q.overflow != 0 ? _occ[b] | occ_overflow : _occ[b] & ~occ_overflow);
}

namespace {
constexpr uint8_t full_mask = (1u << conn_table::slots_per_bucket) - 1;
int free_slot(uint8_t occupied)
{
    const uint32_t f = uint32_t(~occupied) & full_mask;
    return f == 0 ? -1 : __builtin_ctz(f);
}
} // namespace

int conn_table::insert_hashed(const tuple4& k, uint32_t v, uint32_t h)
{
    if (FG_UNLIKELY(is_empty(k) || v == none)) {
        return -EINVAL;
    }
    const uint32_t b1 = primary(h);
    const uint32_t b2 = secondary(h, b1);
    const bucket& p = _buckets[b1];
    // b2 is needed when b1 is full or the key may live there: fetch it now,
    // in parallel with b1, rather than after b1 arrives.
    rte_prefetch0(&_buckets[b2]);
    rte_prefetch0(reinterpret_cast<const char*>(&_buckets[b2]) + 64);
    if (find(p, k) >= 0 || (may_overflow(p.overflow, h) && find(_buckets[b2], k) >= 0)) {
        _stats.insert_exists++;
        return -EEXIST;
    }
    int s = free_slot(_occ[b1]);
    if (FG_LIKELY(s >= 0)) {
        put(b1, s, k, v);
    } else if ((s = free_slot(_occ[b2])) >= 0) {
        // Count it in the primary first, so a reader that sees the entry in
        // the secondary bucket also sees a non-zero overflow.
        add_overflow(b1, h, 1);
        put(b2, s, k, v);
    } else {
        const int rc = insert_with_moves(k, v, b1, b2);
        if (rc != 0) {
            _stats.insert_nospace++;
            return rc;
        }
    }
    _size++;
    _stats.inserts++;
    return 0;
}

// Both candidate buckets are full: breadth-first search, from both, for the
// nearest bucket with a free slot along "entry -> its other bucket" edges,
// then shift the entries along that path back to front, so every entry is in
// one of its buckets at every moment and the free slot ends up in a root.
// Candidates are tested for a free slot in the occupancy array as they are
// generated; only buckets that must be expanded (all their entries' other
// buckets full) are read, which at capacity load is rare.
int conn_table::insert_with_moves(const tuple4& k, uint32_t v, uint32_t b1, uint32_t b2)
{
    bfs_node q[bfs_max_nodes];
    uint32_t n = 0;
    q[n++] = bfs_node{b1, -1, 0, 0};
    q[n++] = bfs_node{b2, -1, 0, 0};
    int found = -1;
    int found_slot = -1;
    for (uint32_t i = 0; i < n && found < 0; i++) {
        if (q[i].depth >= bfs_max_depth) {
            continue;
        }
        const bucket& cur = _buckets[q[i].bucket];
        for (uint32_t s = 0; s < slots_per_bucket && n < bfs_max_nodes; s++) {
            const uint32_t alt = alt_of(q[i].bucket, cur.e[s].key);
            // Keep paths simple: never revisit a bucket already on this path.
            bool on_path = false;
            for (int a = int(i); a >= 0; a = q[a].parent) {
                if (q[a].bucket == alt) {
                    on_path = true;
                    break;
                }
            }
            if (on_path) {
                continue;
            }
            q[n] = bfs_node{alt, int16_t(i), uint8_t(s), uint8_t(q[i].depth + 1)};
            const int f = free_slot(_occ[alt]);
            if (f >= 0) {
                found = int(n);
                found_slot = f;
                n++;
                break;
            }
            n++;
        }
    }
    if (found < 0) {
        return -ENOSPC;
    }
    _stats.displaced_inserts++;
    rte_seqcount_write_begin(&_moves);
    int node = found;
    int dst_slot = found_slot;
    while (q[node].parent >= 0) {
        const bfs_node& src = q[q[node].parent];
        const uint32_t dst_b = q[node].bucket;
        const int src_slot = q[node].slot;
        const entry e = _buckets[src.bucket].e[src_slot];
        const uint32_t eh = hash(e.key);
        const uint32_t ep = primary(eh);
        // Keep overflow >= (entries living in their secondary) at all times.
        if (ep == src.bucket) {
            add_overflow(ep, eh, 1);
        }
        put(dst_b, dst_slot, e.key, e.value);
        clear(src.bucket, src_slot);
        if (ep == dst_b) {
            add_overflow(ep, eh, -1);
        }
        _stats.moves++;
        dst_slot = src_slot;
        node = q[node].parent;
    }
    if (q[node].bucket == b2) {
        add_overflow(b1, hash(k), 1);
    }
    put(q[node].bucket, dst_slot, k, v);
    rte_seqcount_write_end(&_moves);
    return 0;
}

bool conn_table::erase_hashed(const tuple4& k, uint32_t h)
{
    if (FG_UNLIKELY(is_empty(k))) {
        return false;
    }
    const uint32_t b1 = primary(h);
    int s = find(_buckets[b1], k);
    if (s >= 0) {
        clear(b1, s);
    } else {
        if (!may_overflow(_buckets[b1].overflow, h)) {
            return false;
        }
        const uint32_t b2 = secondary(h, b1);
        s = find(_buckets[b2], k);
        if (s < 0) {
            return false;
        }
        clear(b2, s);
        add_overflow(b1, h, -1);
    }
    _size--;
    _stats.erases++;
    return true;
}

uint64_t conn_table::in_secondary_of_empty_primary() const
{
    uint64_t n = 0;
    for (uint32_t i = 0; i < _n_buckets; i++) {
        for (uint32_t s = 0; s < slots_per_bucket; s++) {
            if ((_occ[i] >> s & 1) != 0) {
                const uint32_t p = primary(hash(_buckets[i].e[s].key));
                n += p != i && (_occ[p] & full_mask) == 0;
            }
        }
    }
    return n;
}

uint64_t conn_table::in_secondary() const
{
    uint64_t n = 0;
    for (uint32_t i = 0; i < _n_buckets; i++) {
        for (uint32_t s = 0; s < slots_per_bucket; s++) {
            if ((_occ[i] >> s & 1) != 0 && primary(hash(_buckets[i].e[s].key)) != i) {
                n++;
            }
        }
    }
    return n;
}

} // namespace fg::table
