// pool<T> is one lcore's preallocated array of connection blocks (tcbs,
// request entries) with O(1) alloc and free, and handles that can be held
// safely outside the lcore. Everything is allocated once (fg::alloc_huge,
// hugepages when reserved) and never grows: exhaustion is an ordinary
// outcome the caller counts, not an allocation on the hot path.
//
// Free slots form an intrusive LIFO list threaded through the free objects'
// first four bytes (the most recently freed block is still warm in cache when
// it is handed out again); slots never allocated yet are handed out from a
// high-water mark, so init() touches no object memory. alloc() zero-fills the
// object: a zero timer link means "unarmed" to the timer wheel.
//
// A separate 4-byte word per slot holds a 24-bit generation and an in-use
// bit. free() bumps the generation, so a handle {slot, generation, lcore}
// taken before the free no longer resolves, even after the slot is reused:
// an application thread holding a handle to a closed connection gets nullptr,
// never another connection's block. Generations start at 1, so an all-zero
// handle never resolves.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "base/compiler.hh"
#include "base/mem.hh"

namespace fg::table {

// (lcore, slot, generation) naming one object in one lcore's pool. 8 bytes,
// passed by value through rings.
struct handle {
    uint32_t slot;
    uint32_t gen : 24;
    uint32_t lcore : 8;

    friend bool operator==(const handle& a, const handle& b)
    {
        return a.slot == b.slot && a.gen == b.gen && a.lcore == b.lcore;
    }
};
static_assert(sizeof(handle) == 8, "a handle is 8 bytes");

// Pool counters, X-macro: name, meaning.
#define FG_POOL_COUNTERS(X)                                                                                          \
    X(allocs, "objects handed out")                                                                                  \
    X(frees, "objects returned")                                                                                     \
    X(exhausted, "alloc() found the pool empty")                                                                     \
    X(bad_frees, "free() of a slot out of range or not in use (double free), refused")

struct pool_stats {
#define FG_X(name, doc) uint64_t name = 0;
    FG_POOL_COUNTERS(FG_X)
#undef FG_X
};

// Every member is for the owner lcore only (application threads hold
// handles and pass them to the owner through rings; the owner resolves them).
template <class T>
class pool {
    // alloc() zero-fills with memset and free() stores the link with memcpy:
    // both are only valid for trivially copyable types without destructors.
    static_assert(std::is_trivially_copyable_v<T>, "pool objects are zero-filled and overwritten raw");
    static_assert(std::is_trivially_destructible_v<T>, "pool objects are never destroyed");
    static_assert(sizeof(T) >= sizeof(uint32_t), "a free object holds the free-list link");
    static_assert(alignof(T) <= 4096, "objects start at page-aligned memory");

public:
    static constexpr uint32_t none = 0xFFFFFFFFu;     // alloc() when exhausted; also the list end
    static constexpr uint32_t max_capacity = 0xFFFFFFFEu;
    static constexpr uint32_t gen_mask = 0xFFFFFFu;   // handle::gen width
    static constexpr uint32_t in_use_bit = 1u << 31;  // in the per-slot word, above the generation

    pool() = default;
    ~pool()
    {
        free_huge(_obj_mem);
        free_huge(_meta_mem);
    }
    pool(const pool&) = delete;
    pool& operator=(const pool&) = delete;

    // `capacity` objects for lcore `lcore`. `populate` faults all memory in
    // now (lcores do, so the hot path never page-faults; tests need not).
    bool init(uint32_t capacity, uint8_t lcore, bool populate = true)
    {
        if (capacity == 0 || capacity > max_capacity || _objs != nullptr) {
            return false;
        }
        // Faulted in here rather than by alloc_huge(): its MAP_POPULATE runs
        // before the transparent-hugepage advice and would fix 4 KB pages.
        _obj_mem = alloc_huge(std::size_t(capacity) * sizeof(T), false);
        _meta_mem = alloc_huge(std::size_t(capacity) * sizeof(uint32_t), false);
        if (_obj_mem.ptr == nullptr || _meta_mem.ptr == nullptr) {
            free_huge(_obj_mem);
            free_huge(_meta_mem);
            return false;
        }
        if (populate) {
            touch(_obj_mem);
            touch(_meta_mem);
        }
        _objs = static_cast<T*>(_obj_mem.ptr);
        _meta = static_cast<uint32_t*>(_meta_mem.ptr); // zero: generation 0 is bumped to 1 on first alloc
        _capacity = capacity;
        _lcore = lcore;
        return true;
    }

    // A zero-filled object's slot, or none when every slot is in use.
    FG_ALWAYS_INLINE uint32_t alloc()
    {
        uint32_t s = _free_head;
        if (s != none) {
            std::memcpy(&_free_head, &_objs[s], sizeof(uint32_t));
        } else if (_fresh < _capacity) {
            s = _fresh++;
        } else {
            _stats.exhausted++;
            return none;
        }
        uint32_t g = _meta[s] & gen_mask;
        if (g == 0) {
            g = 1; // first use of this slot
        }
        _meta[s] = in_use_bit | g;
        std::memset(static_cast<void*>(&_objs[s]), 0, sizeof(T));
        _in_use++;
        _stats.allocs++;
        return s;
    }

    // Returns the slot to the pool and invalidates its handles. A slot out of
    // range or not in use (double free) is refused, counted, and false.
    FG_ALWAYS_INLINE bool free(uint32_t s)
    {
        if (FG_UNLIKELY(s >= _fresh || (_meta[s] & in_use_bit) == 0)) {
            _stats.bad_frees++;
            return false;
        }
        uint32_t g = (_meta[s] + 1) & gen_mask;
        if (g == 0) {
            g = 1; // generation 0 is never live: a zeroed handle must not resolve
        }
        _meta[s] = g;
        std::memcpy(static_cast<void*>(&_objs[s]), &_free_head, sizeof(uint32_t));
        _free_head = s;
        _in_use--;
        _stats.frees++;
        return true;
    }

    // The handle of an in-use slot (its current generation).
    handle make_handle(uint32_t s) const { return handle{s, _meta[s] & gen_mask, _lcore}; }

    // The object a handle names, or nullptr if the handle is for another
    // lcore, out of range, for a free slot, or for an older generation.
    // Reads only the slot's metadata word before deciding.
    FG_ALWAYS_INLINE T* resolve(handle h)
    {
        if (FG_UNLIKELY(h.lcore != _lcore || h.slot >= _fresh)) {
            return nullptr;
        }
        if (FG_UNLIKELY(_meta[h.slot] != (in_use_bit | h.gen))) {
            return nullptr;
        }
        return &_objs[h.slot];
    }
    const T* resolve(handle h) const { return const_cast<pool*>(this)->resolve(h); }

    bool in_use(uint32_t s) const { return s < _fresh && (_meta[s] & in_use_bit) != 0; }
    // Slots [0, high_water()) have been handed out at least once; none above is in use.
    uint32_t high_water() const { return _fresh; }
    // Unchecked: the lcore's own slots, from its own tables.
    T& operator[](uint32_t s) { return _objs[s]; }
    const T& operator[](uint32_t s) const { return _objs[s]; }

    uint32_t in_use() const { return _in_use; }
    uint32_t capacity() const { return _capacity; }
    uint8_t lcore() const { return _lcore; }
    std::size_t memory_bytes() const { return _obj_mem.bytes + _meta_mem.bytes; }
    // Pool bytes per object beyond the object itself (the metadata word).
    double overhead_per_object() const
    {
        return _capacity ? double(memory_bytes()) / _capacity - double(sizeof(T)) : 0.0;
    }
    const pool_stats& stats() const { return _stats; }

private:
    static void touch(const huge_region& r)
    {
        for (std::size_t off = 0; off < r.bytes; off += 4096) {
            static_cast<volatile uint8_t*>(r.ptr)[off] = 0;
        }
    }

    T* _objs = nullptr;
    uint32_t* _meta = nullptr;   // per slot: in_use_bit | generation
    uint32_t _capacity = 0;
    uint32_t _fresh = 0;         // slots [0, _fresh) have been handed out at least once
    uint32_t _free_head = none;  // intrusive LIFO of freed slots
    uint32_t _in_use = 0;
    uint8_t _lcore = 0;
    huge_region _obj_mem;
    huge_region _meta_mem;
    pool_stats _stats;
};

} // namespace fg::table
