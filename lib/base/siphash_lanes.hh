// Multi-lane SipHash-2-4: n independent keyed hashes of short messages at
// once, one message per 64-bit SIMD lane, bit for bit what Linux's
// siphash_2u32 / siphash_3u32 / siphash_4u32 (lib/siphash.c) return for the
// same words. A SYN-cookie SYN-ACK costs three such hashes (cookie H0 and H1,
// the timestamp offset) and the responder's budget at 10 Mpps is ~245 cycles
// per SYN for everything, so a burst's hashes run side by side:
//
//   scalar  one lane at a time (the reference; any x86-64)
//   avx2    4 lanes per ymm register, two register sets (8 messages) per step
//   avx512  8 lanes per zmm register
//
// chosen per call from fg::simd_active() (base/cpu.hh: CPUID, FG_SIMD).
// The messages come structure-of-arrays, as two 64-bit words per lane in the
// order Linux packs its u32 arguments (combined = (u64)second << 32 | first),
// so the kernels only load:
//
//   sip_len::u32x2  siphash_2u32(a, b)        m0[i] = b << 32 | a        (m1 unused, may be null)
//   sip_len::u32x3  siphash_3u32(a, b, c)     m0[i] = b << 32 | a, m1[i] = c (high half ignored)
//   sip_len::u32x4  siphash_4u32(a, b, c, d)  m0[i] = b << 32 | a, m1[i] = d << 32 | c
//
// Per hash of 4 words, 32 lanes per call (BM_SiphashLanes/<level>/2/4 in
// bench/syncookie_bench.cc, one Sapphire Rapids lcore of a loaded 2-core VM,
// medians of 3): scalar 17.4 ns, avx2 7.1 ns (2.4x), avx512 3.8 ns (4.6x).
// Two register sets per step beat one by 8-12% on both ISAs; a call of at
// most 2 (avx2) or 3 (avx512) lanes runs the scalar code, since one vector
// pass costs about that many single hashes.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/cpu.hh"
#include "base/siphash.hh"

namespace fg {

// Message length in bytes (the SipHash length byte), named by Linux's helper.
enum class sip_len : uint8_t {
    u32x2 = 8,
    u32x3 = 12,
    u32x4 = 16,
};

// out[i] = SipHash-2-4 under `key` of lane i's message (see above), i < n.
// Any n (0 included); no alignment needed; nothing past out[n - 1] is
// written and nothing past m0[n - 1] / m1[n - 1] is read. `out` must not
// overlap m0 or m1. No allocation, no system call.
void siphash_lanes(const siphash_key& key, sip_len len, std::size_t n, const uint64_t* m0, const uint64_t* m1,
                   uint64_t* out);

// The same with the variant for `level` (a level the CPU lacks is lowered to
// simd_supported(), never run): tests and benchmarks compare variants.
void siphash_lanes(simd level, const siphash_key& key, sip_len len, std::size_t n, const uint64_t* m0,
                   const uint64_t* m1, uint64_t* out);

namespace detail {
// A variant with `sets` (1 or 2) register sets per step, for the benchmark
// that chose each level's default and for tests of both.
void siphash_lanes_sets(simd level, int sets, const siphash_key& key, sip_len len, std::size_t n,
                        const uint64_t* m0, const uint64_t* m1, uint64_t* out);
} // namespace detail

// Lane-message builders in Linux's word order (a, b: first and second u32).
constexpr uint64_t sip_words(uint32_t a, uint32_t b) { return (uint64_t(b) << 32) | a; }

} // namespace fg
