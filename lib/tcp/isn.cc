#include "tcp/isn.hh"

#include <immintrin.h>

#include <algorithm>

namespace fg::tcp {

namespace detail {

void tuple_hash_x8_scalar(const siphash_key& k, tuple_hash what, const tuple4* t, const uint32_t* extra,
                          uint64_t* out)
{
    for (std::size_t i = 0; i < sip_lanes; i++) {
        const tuple4& x = t[i];
        switch (what) {
        case tuple_hash::cookie:
            out[i] = siphash_4u32(x.raddr, x.laddr, (uint32_t(x.rport) << 16) | uint32_t(x.lport),
                                  extra != nullptr ? extra[i] : 0, k);
            break;
        case tuple_hash::seq:
            out[i] = siphash_3u32(x.laddr, x.raddr, (uint32_t(x.lport) << 16) | uint32_t(x.rport), k);
            break;
        case tuple_hash::ts:
            out[i] = siphash_2u32(x.laddr, x.raddr, k);
            break;
        }
    }
}

// The AVX-512 lanes. GCC 12's AVX-512 intrinsics pass a deliberately
// undefined pass-through vector (_mm512_undefined_epi32) to their builtins,
// which -W(maybe-)uninitialized reports once inlined into a
// target("avx512f") function: false positives, silenced for this function.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#define FG_ROL_X8(x, b) _mm512_rol_epi64((x), (b))
#define FG_SIPROUND_X8                                                                                              \
    do {                                                                                                            \
        v0 = _mm512_add_epi64(v0, v1);                                                                              \
        v1 = FG_ROL_X8(v1, 13);                                                                                     \
        v1 = _mm512_xor_si512(v1, v0);                                                                              \
        v0 = FG_ROL_X8(v0, 32);                                                                                     \
        v2 = _mm512_add_epi64(v2, v3);                                                                              \
        v3 = FG_ROL_X8(v3, 16);                                                                                     \
        v3 = _mm512_xor_si512(v3, v2);                                                                              \
        v0 = _mm512_add_epi64(v0, v3);                                                                              \
        v3 = FG_ROL_X8(v3, 21);                                                                                     \
        v3 = _mm512_xor_si512(v3, v0);                                                                              \
        v2 = _mm512_add_epi64(v2, v1);                                                                              \
        v1 = FG_ROL_X8(v1, 17);                                                                                     \
        v1 = _mm512_xor_si512(v1, v2);                                                                              \
        v2 = FG_ROL_X8(v2, 32);                                                                                     \
    } while (0)
#define FG_SIPBLOCK_X8(m)                                                                                           \
    do {                                                                                                            \
        v3 = _mm512_xor_si512(v3, (m));                                                                             \
        FG_SIPROUND_X8;                                                                                             \
        FG_SIPROUND_X8;                                                                                             \
        v0 = _mm512_xor_si512(v0, (m));                                                                             \
    } while (0)

__attribute__((target("avx512f"))) void tuple_hash_x8_avx512(const siphash_key& k, tuple_hash what,
                                                                   const tuple4* t, const uint32_t* extra,
                                                                   uint64_t* out)
{
    static_assert(sizeof(tuple4) == 12);
    // The 8 tuples are 24 dwords: laddr, raddr, lport | rport << 16 each.
    // Two loads (the second masked to the last 8 dwords, so nothing past
    // the array is touched) and permutes pick the lanes' words; gathers
    // would be several times slower.
    const auto* d = reinterpret_cast<const uint32_t*>(t);
    const __m512i lo = _mm512_loadu_si512(d);
    const __m512i hi = _mm512_maskz_loadu_epi32(__mmask16(0x00FF), d + 16);
    const __m512i addrs = _mm512_permutex2var_epi32( // laddr | raddr << 32
        lo, _mm512_setr_epi32(0, 1, 3, 4, 6, 7, 9, 10, 12, 13, 15, 16, 18, 19, 21, 22), hi);
    const __m512i ports = _mm512_maskz_permutex2var_epi32( // lport | rport << 16, zero-extended
        __mmask16(0x5555), lo, _mm512_setr_epi32(2, 0, 5, 0, 8, 0, 11, 0, 14, 0, 17, 0, 20, 0, 23, 0), hi);

    __m512i v0 = _mm512_set1_epi64(int64_t(0x736f6d6570736575ull ^ k.k[0]));
    __m512i v1 = _mm512_set1_epi64(int64_t(0x646f72616e646f6dull ^ k.k[1]));
    __m512i v2 = _mm512_set1_epi64(int64_t(0x6c7967656e657261ull ^ k.k[0]));
    __m512i v3 = _mm512_set1_epi64(int64_t(0x7465646279746573ull ^ k.k[1]));
    __m512i tail;
    switch (what) {
    case tuple_hash::cookie: {
        FG_SIPBLOCK_X8(FG_ROL_X8(addrs, 32)); // raddr | laddr << 32
        __m512i w1 = ports;                   // rport << 16 | lport, then extra << 32
        if (extra != nullptr) {
            const __m256i e = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(extra));
            w1 = _mm512_or_si512(w1, _mm512_slli_epi64(_mm512_cvtepu32_epi64(e), 32));
        }
        FG_SIPBLOCK_X8(w1);
        tail = _mm512_set1_epi64(int64_t(16) << 56);
        break;
    }
    case tuple_hash::seq: {
        FG_SIPBLOCK_X8(addrs); // laddr | raddr << 32
        // lport << 16 | rport: swap the port halves of the low dword.
        const __m512i swapped = _mm512_rol_epi32(ports, 16);
        tail = _mm512_or_si512(_mm512_set1_epi64(int64_t(12) << 56), swapped);
        break;
    }
    case tuple_hash::ts:
    default:
        FG_SIPBLOCK_X8(addrs);
        tail = _mm512_set1_epi64(int64_t(8) << 56);
        break;
    }
    FG_SIPBLOCK_X8(tail);
    v2 = _mm512_xor_si512(v2, _mm512_set1_epi64(0xff));
    FG_SIPROUND_X8;
    FG_SIPROUND_X8;
    FG_SIPROUND_X8;
    FG_SIPROUND_X8;
    _mm512_storeu_si512(out, _mm512_xor_si512(_mm512_xor_si512(v0, v1), _mm512_xor_si512(v2, v3)));
}
#pragma GCC diagnostic pop
#undef FG_SIPBLOCK_X8
#undef FG_SIPROUND_X8
#undef FG_ROL_X8

bool cpu_has_avx512()
{
    __builtin_cpu_init(); // may run before libgcc's own constructor
    return __builtin_cpu_supports("avx512f");
}

void tuple_hash_x8(const siphash_key& k, tuple_hash what, const tuple4* t, const uint32_t* extra, uint64_t* out)
{
    static const tuple_hash_x8_fn impl = cpu_has_avx512() ? tuple_hash_x8_avx512 : tuple_hash_x8_scalar;
    impl(k, what, t, extra, out);
}

} // namespace detail

isn_generator isn_generator::random()
{
    const siphash_key seq_key = random_siphash_key();
    const siphash_key ts_key = random_siphash_key();
    return isn_generator(seq_key, ts_key);
}

namespace {
// Runs the 8-lane hash over n tuples, padding the last short chunk with
// copies of its last tuple, and hands each lane's 64-bit hash to `done`.
template <class Done>
inline void for_each_hash(std::size_t n, const tuple4* t, const siphash_key& k, detail::tuple_hash what, Done done)
{
    using detail::sip_lanes;
    alignas(64) uint64_t h[sip_lanes];
    for (std::size_t base = 0; base < n; base += sip_lanes) {
        const std::size_t m = std::min(sip_lanes, n - base);
        const tuple4* chunk = t + base;
        tuple4 pad[sip_lanes];
        if (m < sip_lanes) {
            for (std::size_t i = 0; i < sip_lanes; i++) {
                pad[i] = chunk[std::min(i, m - 1)];
            }
            chunk = pad;
        }
        detail::tuple_hash_x8(k, what, chunk, nullptr, h);
        for (std::size_t i = 0; i < m; i++) {
            done(base + i, h[i]);
        }
    }
}
} // namespace

void isn_generator::isn_burst(std::size_t n, const tuple4* t, uint64_t now_ns, uint32_t* out) const
{
    const uint32_t clock = uint32_t(now_ns >> clock_shift);
    for_each_hash(n, t, _seq_key, detail::tuple_hash::seq,
                  [&](std::size_t i, uint64_t h) { out[i] = uint32_t(h) + clock; });
}

void isn_generator::ts_offset_burst(std::size_t n, const tuple4* t, uint32_t* out) const
{
    for_each_hash(n, t, _ts_key, detail::tuple_hash::ts, [&](std::size_t i, uint64_t h) { out[i] = uint32_t(h); });
}

} // namespace fg::tcp
