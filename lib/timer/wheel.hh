// fg::timer::wheel is the per-lcore timer wheel: SYN and SYN-ACK retransmits
// (1, 2, 4 ... 64 s), TIME_WAIT (60 s), SYN-cookie secret rotation, for
// millions of connections at once. One lcore owns a wheel; nothing here is
// thread safe, nothing allocates after init(), and arm, cancel and each expiry
// are O(1).
//
// The timer state is intrusive: a 12-byte `link` embedded in every object of a
// pool (objects in one array, addressed by a uint32 slot index), so arming a
// timer never allocates and the wheel adds no per-timer memory. An all-zero
// link means "not armed", so a pool that zero-fills on allocation hands out
// objects whose timers are off. A standalone array of links works the same way.
//
// Design: a hashed wheel of 2^16 one-millisecond slots (65.5 s per revolution),
// each slot a circular doubly linked list through the links, so cancel unlinks
// without knowing the slot. Timers due more than one revolution ahead sit in
// their slot and are passed over ("not yet, re-insert") until their turn; with
// 65.5 s per revolution TCP's common timers (<= 64 s) fire on the first visit.
// A two-level occupancy bitmap lets advance() skip empty slots 64 (and 4096)
// at a time, so a jump of the clock costs ~ the slots that hold timers, and a
// jump of more than one revolution sweeps each slot at most once. Expiries that
// are already due when armed go to a pending list that the next advance()
// fires. advance() takes a budget and resumes where it stopped (swept slots
// move whole onto a work list that is judged one timer at a time), so a burst
// of a million expiries cannot stall rx.
//
// Time is the caller's uint32 millisecond clock (fg::ms_clock), passed in so
// tests are deterministic; it may wrap. An expiry up to past_window (2^30 ms)
// behind the wheel's clock is due; anything else is ahead, so timers may be
// armed up to max_ahead (3 * 2^30 - 2^16 ms, ~37 days) into the future.
//
// Within one advance() call timers fire in expiry order (same-ms timers in arm
// order) whenever the call covers less than one revolution; after a longer
// stall everything due still fires, none early, in slot order. advance() is
// not reentrant: fire() must not call it.
//
// Why hashed and not hierarchical: every touch of a link is a cache miss in a
// pool of millions (bench/timer_bench.cc: one expiry ~ one miss). A
// hierarchical wheel (6- or 8-bit levels of 1 ms) would cascade each 60 s
// TIME_WAIT timer down one or two levels before firing, as many extra misses
// per timer; here a timer under 65.5 s is touched once to arm and once to
// fire, at the price of 512 KB of slot heads and a re-visit per revolution for
// rarer, farther timers.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/compiler.hh"
#include "base/mem.hh"

namespace fg::timer {

// The intrusive timer state. next/prev hold references, not indices: object i
// is i + 1, a list head is sentinel_bit | list number, 0 is "none". Armed
// links always point somewhere (circular lists), so next == 0 means unarmed.
struct link {
    uint32_t next;      // reference of the next entry on this timer's list; 0 = not armed
    uint32_t prev;      // reference of the previous entry; 0 = not armed
    uint32_t expire_ms; // when it fires, on the caller's ms clock (meaningful only while armed)
};
static_assert(sizeof(link) == 12, "the timer link must stay 12 bytes");

// Counters, one X-macro line each: name, meaning.
#define FG_TIMER_COUNTERS(X)                                                                                        \
    X(fired, "timers expired and handed to the fire callback")                                                      \
    X(requeued, "timers visited before their time (farther than one revolution) and put back")                      \
    X(armed_past, "timers armed with an expiry already due: fired by the next advance()")

struct counters {
#define FG_TIMER_COUNTER_FIELD(name, doc) uint64_t name = 0;
    FG_TIMER_COUNTERS(FG_TIMER_COUNTER_FIELD)
#undef FG_TIMER_COUNTER_FIELD
};

class wheel {
public:
    // 2^16 slots of 1 ms = 65.5 s per revolution: longer than TCP's longest
    // common timer (64 s SYN backoff step, 60 s TIME_WAIT), so those are never
    // passed over before they fire. Slot heads cost 8 bytes each: 512 KB.
    static constexpr uint32_t slot_bits = 16;
    static constexpr uint32_t n_slots = 1u << slot_bits;
    static constexpr uint32_t slot_mask = n_slots - 1;
    // Time wraps at 2^32 ms, so "past" and "future" split the circle: an
    // expiry up to past_window behind the wheel's clock is past (nobody arms
    // 12 days ago), the other 3 * 2^30 ms are the future. Timers may be armed
    // up to max_ahead (~37 days) past the last ms advance() swept: one
    // revolution less, so the judgement of a sweep in progress stays exact.
    static constexpr uint32_t past_window = 1u << 30;
    static constexpr uint32_t future_window = uint32_t(0) - past_window;
    static constexpr uint32_t max_ahead = future_window - n_slots;
    // References with this bit set name a list head, not an object; so at most
    // 2^31 - 1 objects.
    static constexpr uint32_t sentinel_bit = 1u << 31;
    static constexpr uint32_t max_capacity = sentinel_bit - 1;

    wheel() = default;
    ~wheel();
    wheel(const wheel&) = delete;
    wheel& operator=(const wheel&) = delete;

    // Pool use: object i lives at base + i * stride and its link at
    // + link_offset. Every link must be zero (unarmed) now. The wheel's clock
    // starts at now_ms. Returns false on a bad layout (link past the stride,
    // misaligned, capacity 0 or > max_capacity) or if memory runs out.
    bool init(void* base, std::size_t stride, std::size_t link_offset, uint32_t capacity, uint32_t now_ms);
    // Standalone use: the caller owns `capacity` zeroed links.
    bool init(link* links, uint32_t capacity, uint32_t now_ms)
    {
        return init(links, sizeof(link), 0, capacity, now_ms);
    }

    // Arms object idx to fire at expire_ms; moves it if already armed. An
    // expire_ms not after the last ms advance() swept (or more than max_ahead
    // after it, which the 32-bit clock cannot tell from the past) fires on the
    // next advance().
    FG_ALWAYS_INLINE void arm(uint32_t idx, uint32_t expire_ms)
    {
        const uint32_t r = idx + 1;
        link& l = node(r);
        if (l.next != 0) {
            unlink(l);
        } else {
            _armed++;
        }
        l.expire_ms = expire_ms;
        if (FG_UNLIKELY(expire_ms - _cur >= max_ahead)) {
            _ctr.armed_past++;
            push_back(list_pending, r, l);
        } else {
            insert_slot(r, l);
        }
    }

    // Disarms object idx; a no-op if it is not armed.
    FG_ALWAYS_INLINE void cancel(uint32_t idx)
    {
        link& l = node(idx + 1);
        if (l.next == 0) {
            return;
        }
        unlink(l);
        l.next = 0;
        l.prev = 0;
        _armed--;
    }

    bool armed(uint32_t idx) const { return node(idx + 1).next != 0; }
    // The expiry of an armed timer (meaningless when unarmed).
    uint32_t expire_ms(uint32_t idx) const { return node(idx + 1).expire_ms; }
    std::size_t armed_count() const { return _armed; }
    uint32_t capacity() const { return _capacity; }
    // The first millisecond whose slot advance() has not swept yet.
    uint32_t cursor_ms() const { return _cur; }
    const counters& stats() const { return _ctr; }

    // Fires every timer with expire_ms <= now_ms: unarms its link, then calls
    // fire(idx), which may re-arm, cancel or free anything (a timer re-armed
    // from fire() for a time already swept fires on the next call). Stops after
    // `budget` expiries and resumes there on the next call. Returns the number
    // fired. now_ms earlier than the last call's is treated as the same time.
    template <class F>
    uint32_t advance(uint32_t now_ms, F&& fire, uint32_t budget = UINT32_MAX)
    {
        uint32_t fired = 0;
        // 1. Timers armed for past times: due whatever the clock says. They
        // join the due list once per call, so a callback re-arming into the
        // past fires again next call, not in a loop now.
        splice_back(list_due, list_pending);
        for (uint32_t* h = head(list_due); h[0] != ref_of_list(list_due);) {
            if (FG_UNLIKELY(fired == budget)) {
                return account(fired);
            }
            const uint32_t r = pop_front(list_due);
            fired++;
            fire(r - 1);
        }
        // 2. Sweep slots from the cursor, judging every timer against _ref,
        // the last ms swept before this sweep began (kept across calls that
        // stop on their budget, so leftovers are judged as they were).
        if (head(list_work)[0] == ref_of_list(list_work)) {
            _ref = _cur - 1;
        }
        uint32_t ahead = now_ms - _ref;
        if (ahead >= future_window) {
            ahead = 0; // now_ms behind the wheel's clock: the same time
        }
        const uint32_t sweep = ahead < n_slots ? ahead : n_slots; // one revolution sees every slot
        for (;;) {
            // Work list: timers of swept slots, due or farther than a revolution.
            for (uint32_t* w = head(list_work); w[0] != ref_of_list(list_work);) {
                if (FG_UNLIKELY(fired == budget)) {
                    return account(fired);
                }
                const uint32_t r = w[0];
                link& l = node(r);
                // Every timer here expires after _ref (its slot was reached
                // at or after _ref + 1; due-when-armed ones took the pending
                // list), so its distance from _ref decides.
                if (l.expire_ms - _ref - 1 < ahead) {
                    pop_front(list_work);
                    fired++;
                    fire(r - 1);
                } else {
                    pop_front(list_work);
                    _armed++;
                    _ctr.requeued++;
                    insert_slot(r, l);
                }
            }
            const uint32_t swept = _cur - 1 - _ref;
            const uint32_t d = swept < sweep ? next_busy_slot(_cur & slot_mask, sweep - swept) : 0;
            if (swept >= sweep || d == sweep - swept) {
                if (ahead > swept) {
                    _cur = now_ms + 1;
                }
                break;
            }
            const uint32_t s = (_cur + d) & slot_mask;
            _cur += d + 1;
            clear_busy(s);
            splice_back(list_work, s);
        }
        return account(fired);
    }

private:
    // Lists: slots 0 .. n_slots-1, then: armed in the past since the last
    // advance(); due for sure (fired first); swept but not yet judged.
    static constexpr uint32_t list_pending = n_slots;
    static constexpr uint32_t list_due = n_slots + 1;
    static constexpr uint32_t list_work = n_slots + 2;
    static constexpr uint32_t n_lists = n_slots + 3;
    static constexpr uint32_t bitmap_words = n_slots / 64;
    static constexpr uint32_t summary_words = bitmap_words / 64;

    static constexpr uint32_t ref_of_list(uint32_t list) { return sentinel_bit | list; }

    FG_ALWAYS_INLINE uint32_t account(uint32_t fired)
    {
        _ctr.fired += fired;
        return fired;
    }
    // Unlinks the first entry of a non-empty list, leaves its link zero
    // (unarmed) and returns its reference.
    FG_ALWAYS_INLINE uint32_t pop_front(uint32_t list)
    {
        uint32_t* h = head(list);
        const uint32_t r = h[0];
        link& l = node(r);
        const uint32_t n = l.next;
        h[0] = n;
        uint32_t* np = fields(n);
        np[1] = ref_of_list(list);
        if (!(n & sentinel_bit)) {
            rte_prefetch0(fields(np[0])); // the entry after next: its prev is written on the next pop
        }
        l.next = 0;
        l.prev = 0;
        _armed--;
        return r;
    }

    FG_ALWAYS_INLINE link& node(uint32_t r)
    {
        return *reinterpret_cast<link*>(_base + std::size_t(r - 1) * _stride + _link_offset);
    }
    FG_ALWAYS_INLINE const link& node(uint32_t r) const
    {
        return *reinterpret_cast<const link*>(_base + std::size_t(r - 1) * _stride + _link_offset);
    }
    // {next, prev} of a reference: an object's link or a list head.
    FG_ALWAYS_INLINE uint32_t* fields(uint32_t r)
    {
        if (r & sentinel_bit) {
            return &_heads[2 * std::size_t(r & ~sentinel_bit)];
        }
        return &node(r).next;
    }
    FG_ALWAYS_INLINE uint32_t* head(uint32_t list) { return &_heads[2 * std::size_t(list)]; }

    FG_ALWAYS_INLINE void unlink(link& l)
    {
        fields(l.prev)[0] = l.next;
        fields(l.next)[1] = l.prev;
    }
    FG_ALWAYS_INLINE void push_back(uint32_t list, uint32_t r, link& l)
    {
        uint32_t* h = head(list);
        const uint32_t tail = h[1];
        l.next = ref_of_list(list);
        l.prev = tail;
        fields(tail)[0] = r;
        h[1] = r;
    }
    FG_ALWAYS_INLINE void insert_slot(uint32_t r, link& l)
    {
        const uint32_t s = l.expire_ms & slot_mask;
        push_back(s, r, l);
        const uint32_t w = s >> 6;
        _bits[w] |= uint64_t(1) << (s & 63);
        _summary[w >> 6] |= uint64_t(1) << (w & 63);
    }
    void splice_back(uint32_t dst, uint32_t src);
    void clear_busy(uint32_t s);
    // Offset d in [0, span) of the first slot (start + d) & slot_mask that may
    // hold timers, or span if none does.
    uint32_t next_busy_slot(uint32_t start, uint32_t span) const;
    uint32_t find_busy_from(uint32_t s) const; // first busy slot >= s, or n_slots

    unsigned char* _base = nullptr;
    std::size_t _stride = 0;
    std::size_t _link_offset = 0;
    uint32_t _capacity = 0;
    uint32_t _cur = 0;          // first ms whose slot is not swept yet
    uint32_t _ref = 0;          // last ms swept before the sweep in progress began
    std::size_t _armed = 0;
    uint32_t* _heads = nullptr; // n_lists x {next, prev}
    uint64_t* _bits = nullptr;  // slot may hold timers (set on insert, cleared when swept)
    uint64_t* _summary = nullptr; // word of _bits is non-zero
    huge_region _mem;
    counters _ctr;
};

} // namespace fg::timer
