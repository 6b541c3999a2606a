#include "timer/wheel.hh"

#include <bit>

namespace fg::timer {

wheel::~wheel() { free_huge(_mem); }

bool wheel::init(void* base, std::size_t stride, std::size_t link_offset, uint32_t capacity, uint32_t now_ms)
{
    if (base == nullptr || capacity == 0 || capacity > max_capacity || link_offset + sizeof(link) > stride ||
        (reinterpret_cast<uintptr_t>(base) + link_offset) % alignof(link) != 0 || stride % alignof(link) != 0) {
        return false;
    }
    const std::size_t head_bytes = std::size_t(n_lists) * 2 * sizeof(uint32_t);
    const std::size_t bits_bytes = std::size_t(bitmap_words + summary_words) * sizeof(uint64_t);
    free_huge(_mem);
    _mem = alloc_huge(head_bytes + bits_bytes);
    if (_mem.ptr == nullptr) {
        return false;
    }
    // Bitmaps first (8-byte aligned), then the list heads.
    _bits = static_cast<uint64_t*>(_mem.ptr);
    _summary = _bits + bitmap_words;
    _heads = reinterpret_cast<uint32_t*>(_summary + summary_words);
    for (uint32_t i = 0; i < n_lists; i++) {
        _heads[2 * std::size_t(i)] = ref_of_list(i);
        _heads[2 * std::size_t(i) + 1] = ref_of_list(i);
    }
    _base = static_cast<unsigned char*>(base);
    _stride = stride;
    _link_offset = link_offset;
    _capacity = capacity;
    _cur = now_ms + 1; // as if advance(now_ms) had just run
    _armed = 0;
    _ctr = counters{};
    return true;
}

void wheel::splice_back(uint32_t dst, uint32_t src)
{
    uint32_t* s = head(src);
    const uint32_t src_ref = ref_of_list(src);
    if (s[0] == src_ref) {
        return;
    }
    uint32_t* d = head(dst);
    const uint32_t dst_ref = ref_of_list(dst);
    const uint32_t first = s[0];
    const uint32_t last = s[1];
    const uint32_t tail = d[1];
    fields(tail)[0] = first;
    fields(first)[1] = tail;
    fields(last)[0] = dst_ref;
    d[1] = last;
    s[0] = src_ref;
    s[1] = src_ref;
}

void wheel::clear_busy(uint32_t s)
{
    const uint32_t w = s >> 6;
    _bits[w] &= ~(uint64_t(1) << (s & 63));
    if (_bits[w] == 0) {
        _summary[w >> 6] &= ~(uint64_t(1) << (w & 63));
    }
}

uint32_t wheel::find_busy_from(uint32_t s) const
{
    uint32_t w = s >> 6;
    uint64_t b = _bits[w] & (~uint64_t(0) << (s & 63));
    if (b != 0) {
        return (w << 6) | uint32_t(std::countr_zero(b));
    }
    // Later words: the summary says which are non-zero.
    w++;
    if (w == bitmap_words) {
        return n_slots;
    }
    uint32_t sw = w >> 6;
    uint64_t m = _summary[sw] & (~uint64_t(0) << (w & 63));
    for (;;) {
        if (m != 0) {
            const uint32_t word = (sw << 6) | uint32_t(std::countr_zero(m));
            return (word << 6) | uint32_t(std::countr_zero(_bits[word]));
        }
        if (++sw == summary_words) {
            return n_slots;
        }
        m = _summary[sw];
    }
}

uint32_t wheel::next_busy_slot(uint32_t start, uint32_t span) const
{
    uint32_t s = find_busy_from(start);
    uint32_t d;
    if (s != n_slots) {
        d = s - start;
    } else {
        s = find_busy_from(0);
        if (s == n_slots) { // (a busy slot >= start was found above)
            return span;
        }
        d = n_slots - start + s;
    }
    return d < span ? d : span;
}

} // namespace fg::timer
