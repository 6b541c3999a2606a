// The three variants of siphash_lanes() and the dispatch between them.
//
// Each SIMD variant is one function template compiled with a target
// attribute (GCC's arch=x86-64-v3 / v4 reset the instruction set, so the
// AVX2 variant holds no AVX-512 instruction even in a -march=native build on
// an AVX-512 host and is what an AVX2-only CPU runs; clang 14 adds to the
// command line's set instead, which only matters for its -march=native
// builds, the fuzz build). Inside them nothing is called that could carry
// another target, so the SipHash round is a macro over per-ISA operation
// macros, and the lane state lives in small arrays kept in registers.
#include "base/siphash_lanes.hh"

#include <algorithm>
#include <cstring>

namespace fg {

namespace {

constexpr uint64_t sip_c0 = 0x736f6d6570736575ull;
constexpr uint64_t sip_c1 = 0x646f72616e646f6dull;
constexpr uint64_t sip_c2 = 0x6c7967656e657261ull;
constexpr uint64_t sip_c3 = 0x7465646279746573ull;

// One SipRound on register set s; P names the operation macros FG_<P>_ADD,
// FG_<P>_XOR and FG_<P>_ROL_<bits>.
#define FG_SIPROUND_P(P, s)                                                                                         \
    do {                                                                                                            \
        v0[s] = FG_##P##_ADD(v0[s], v1[s]);                                                                         \
        v1[s] = FG_##P##_ROL_13(v1[s]);                                                                             \
        v1[s] = FG_##P##_XOR(v1[s], v0[s]);                                                                         \
        v0[s] = FG_##P##_ROL_32(v0[s]);                                                                             \
        v2[s] = FG_##P##_ADD(v2[s], v3[s]);                                                                         \
        v3[s] = FG_##P##_ROL_16(v3[s]);                                                                             \
        v3[s] = FG_##P##_XOR(v3[s], v2[s]);                                                                         \
        v0[s] = FG_##P##_ADD(v0[s], v3[s]);                                                                         \
        v3[s] = FG_##P##_ROL_21(v3[s]);                                                                             \
        v3[s] = FG_##P##_XOR(v3[s], v0[s]);                                                                         \
        v2[s] = FG_##P##_ADD(v2[s], v1[s]);                                                                         \
        v1[s] = FG_##P##_ROL_17(v1[s]);                                                                             \
        v1[s] = FG_##P##_XOR(v1[s], v2[s]);                                                                         \
        v2[s] = FG_##P##_ROL_32(v2[s]);                                                                             \
    } while (0)

// SipHash-2-4 of S register sets of lanes: the state v0..v3[S] starts from
// the key (init[0..3]), a[s] / b[s] hold the lanes' m0 / m1 words, r[s]
// gets the hashes. fin = the length byte << 56; lo32 masks a u32x3 tail word.
#define FG_SIPHASH_P(P, V, L, S)                                                                                       \
    do {                                                                                                            \
        V v0[S], v1[S], v2[S], v3[S], t[S];                                                            \
        for (int s = 0; s < (S); s++) {                                                                             \
            v0[s] = init[0];                                                                                        \
            v1[s] = init[1];                                                                                        \
            v2[s] = init[2];                                                                                        \
            v3[s] = FG_##P##_XOR(init[3], a[s]);                                                                    \
        }                                                                                                           \
        for (int s = 0; s < (S); s++) {                                                                             \
            FG_SIPROUND_P(P, s);                                                                                    \
            FG_SIPROUND_P(P, s);                                                                                    \
            v0[s] = FG_##P##_XOR(v0[s], a[s]);                                                                      \
        }                                                                                                           \
        if constexpr ((L) == sip_len::u32x4) {                                                                      \
            for (int s = 0; s < (S); s++) {                                                                         \
                v3[s] = FG_##P##_XOR(v3[s], b[s]);                                                                  \
                FG_SIPROUND_P(P, s);                                                                                \
                FG_SIPROUND_P(P, s);                                                                                \
                v0[s] = FG_##P##_XOR(v0[s], b[s]);                                                                  \
            }                                                                                                       \
        }                                                                                                           \
        for (int s = 0; s < (S); s++) {                                                                             \
            if constexpr ((L) == sip_len::u32x3) {                                                                  \
                t[s] = FG_##P##_OR(fin, FG_##P##_AND(b[s], lo32));                                                  \
            } else {                                                                                                \
                t[s] = fin;                                                                                         \
            }                                                                                                       \
            v3[s] = FG_##P##_XOR(v3[s], t[s]);                                                                      \
            FG_SIPROUND_P(P, s);                                                                                    \
            FG_SIPROUND_P(P, s);                                                                                    \
            v0[s] = FG_##P##_XOR(v0[s], t[s]);                                                                      \
            v2[s] = FG_##P##_XOR(v2[s], ff);                                                                        \
            FG_SIPROUND_P(P, s);                                                                                    \
            FG_SIPROUND_P(P, s);                                                                                    \
            FG_SIPROUND_P(P, s);                                                                                    \
            FG_SIPROUND_P(P, s);                                                                                    \
            r[s] = FG_##P##_XOR(FG_##P##_XOR(v0[s], v1[s]), FG_##P##_XOR(v2[s], v3[s]));                            \
        }                                                                                                           \
    } while (0)

// ---- scalar ------------------------------------------------------------------------

#define FG_S_ADD(x, y) ((x) + (y))
#define FG_S_XOR(x, y) ((x) ^ (y))
#define FG_S_OR(x, y) ((x) | (y))
#define FG_S_AND(x, y) ((x) & (y))
#define FG_S_ROL(x, b) (((x) << (b)) | ((x) >> (64 - (b))))
#define FG_S_ROL_13(x) FG_S_ROL(x, 13)
#define FG_S_ROL_16(x) FG_S_ROL(x, 16)
#define FG_S_ROL_17(x) FG_S_ROL(x, 17)
#define FG_S_ROL_21(x) FG_S_ROL(x, 21)
#define FG_S_ROL_32(x) FG_S_ROL(x, 32)

template <sip_len L>
void lanes_scalar(const siphash_key& k, std::size_t n, const uint64_t* m0, const uint64_t* m1, uint64_t* out)
{
    const uint64_t init[4] = {sip_c0 ^ k.k[0], sip_c1 ^ k.k[1], sip_c2 ^ k.k[0], sip_c3 ^ k.k[1]};
    const uint64_t fin = uint64_t(L) << 56;
    const uint64_t ff = 0xff;
    const uint64_t lo32 = 0xffffffffull;
    for (std::size_t i = 0; i < n; i++) {
        const uint64_t a[1] = {m0[i]};
        const uint64_t b[1] = {L == sip_len::u32x2 ? 0 : m1[i]};
        uint64_t r[1];
        FG_SIPHASH_P(S, uint64_t, L, 1);
        // Keeps this the one-lane reference: no auto-vectorisation of the
        // loop (which -march=native would otherwise turn into AVX-512).
        asm("" : "+r"(r[0]));
        out[i] = r[0];
    }
}

// ---- SIMD: GCC/clang vector extensions -------------------------------------------------
//
// Not intrinsics: under -march=native GCC's intrinsics carry the host's
// whole instruction set and cannot be inlined into a narrower
// arch=x86-64-v3 function. Vector extensions compile to the instructions
// the function's own target allows (checked in the disassembly: the v3
// variant is vpaddq/vpsllq/vpsrlq/vpor/vpshufb/vpshufd on ymm, the v4 one
// vprolq on zmm). Loads and stores are memcpy (unaligned, no aliasing
// questions); a short tail goes through a zero-padded copy.

typedef uint64_t u64x4 __attribute__((vector_size(32)));
typedef uint32_t u32x8 __attribute__((vector_size(32)));
typedef uint8_t u8x32 __attribute__((vector_size(32)));
typedef uint64_t u64x8 __attribute__((vector_size(64)));

#define FG_V_ADD(x, y) ((x) + (y))
#define FG_V_XOR(x, y) ((x) ^ (y))
#define FG_V_OR(x, y) ((x) | (y))
#define FG_V_AND(x, y) ((x) & (y))
#define FG_V_ROL(x, b) (((x) << (b)) | ((x) >> (64 - (b))))

// AVX2 has no 64-bit rotate: shift, shift, or -- except by 32 (swap the
// 32-bit halves: vpshufd) and by 16 (a byte shuffle: vpshufb).
#define FG_A2_ADD FG_V_ADD
#define FG_A2_XOR FG_V_XOR
#define FG_A2_OR FG_V_OR
#define FG_A2_AND FG_V_AND
#define FG_A2_ROL_13(x) FG_V_ROL(x, 13)
#define FG_A2_ROL_16(x)                                                                                             \
    ((u64x4)__builtin_shufflevector((u8x32)(x), (u8x32)(x), 6, 7, 0, 1, 2, 3, 4, 5, 14, 15, 8, 9, 10, 11, 12, 13,  \
                                    22, 23, 16, 17, 18, 19, 20, 21, 30, 31, 24, 25, 26, 27, 28, 29))
#define FG_A2_ROL_17(x) FG_V_ROL(x, 17)
#define FG_A2_ROL_21(x) FG_V_ROL(x, 21)
#define FG_A2_ROL_32(x) ((u64x4)__builtin_shufflevector((u32x8)(x), (u32x8)(x), 1, 0, 3, 2, 5, 4, 7, 6))

// AVX-512F rotates any 64-bit lane by any count in one instruction (vprolq,
// which the compiler finds in the shift-or pattern).
#define FG_A5_ADD FG_V_ADD
#define FG_A5_XOR FG_V_XOR
#define FG_A5_OR FG_V_OR
#define FG_A5_AND FG_V_AND
#define FG_A5_ROL_13(x) FG_V_ROL(x, 13)
#define FG_A5_ROL_16(x) FG_V_ROL(x, 16)
#define FG_A5_ROL_17(x) FG_V_ROL(x, 17)
#define FG_A5_ROL_21(x) FG_V_ROL(x, 21)
#define FG_A5_ROL_32(x) FG_V_ROL(x, 32)

// One kernel body for both ISAs: V the vector type (W lanes), P the
// operation macros. S register sets per step: more than one hides the
// round's dependency chain (bench/syncookie_bench.cc, BM_SiphashLanes).
#define FG_LANES_BODY(P, V, W, L, S, T)                                                                                \
    do {                                                                                                            \
        constexpr std::size_t w = (W);                                                                              \
        const V init[4] = {V{} + (sip_c0 ^ k.k[0]), V{} + (sip_c1 ^ k.k[1]), V{} + (sip_c2 ^ k.k[0]),               \
                           V{} + (sip_c3 ^ k.k[1])};                                                                \
        const V fin = V{} + (uint64_t(L) << 56);                                                                    \
        const V ff = V{} + uint64_t(0xff);                                                                          \
        const V lo32 = V{} + uint64_t(0xffffffff);                                                                  \
        std::size_t i = 0;                                                                                          \
        for (; i + (S) * w <= n; i += (S) * w) {                                                                    \
            V a[S], b[S], r[S];                                                                                     \
            for (int s = 0; s < (S); s++) {                                                                         \
                std::memcpy(&a[s], m0 + i + s * w, sizeof(V));                                                      \
                if constexpr ((L) != sip_len::u32x2) {                                                              \
                    std::memcpy(&b[s], m1 + i + s * w, sizeof(V));                                                  \
                } else {                                                                                            \
                    b[s] = a[s];                                                                                    \
                }                                                                                                   \
            }                                                                                                       \
            FG_SIPHASH_P(P, V, L, S);                                                                               \
            for (int s = 0; s < (S); s++) {                                                                         \
                std::memcpy(out + i + s * w, &r[s], sizeof(V));                                                     \
            }                                                                                                       \
        }                                                                                                           \
        for (; i + w <= n; i += w) { /* whole vectors left over from the S-set steps */                             \
            V a[1], b[1], r[1];                                                                                     \
            std::memcpy(&a[0], m0 + i, sizeof(V));                                                                  \
            if constexpr ((L) != sip_len::u32x2) {                                                                  \
                std::memcpy(&b[0], m1 + i, sizeof(V));                                                              \
            } else {                                                                                                \
                b[0] = a[0];                                                                                        \
            }                                                                                                       \
            FG_SIPHASH_P(P, V, L, 1);                                                                               \
            std::memcpy(out + i, &r[0], sizeof(V));                                                                 \
        }                                                                                                           \
        if (i < n && n - i <= (T)) { /* a few lanes: one at a time beats a whole vector pass */                   \
            lanes_scalar<L>(k, n - i, m0 + i, (L) == sip_len::u32x2 ? nullptr : m1 + i, out + i);                   \
        } else if (i < n) { /* a partial vector: through a zero-padded copy */                                      \
            const std::size_t m = n - i;                                                                            \
            uint64_t pa[w], pb[w], pr[w];                                                                           \
            for (std::size_t j = 0; j < w; j++) { /* per-lane selects, not a memcpy call */                        \
                pa[j] = j < m ? m0[i + j] : 0;                                                                      \
                pb[j] = (L) != sip_len::u32x2 && j < m ? m1[i + j] : 0;                                             \
            }                                                                                                       \
            V a[1], b[1], r[1];                                                                                     \
            std::memcpy(&a[0], pa, sizeof(V));                                                                      \
            std::memcpy(&b[0], pb, sizeof(V));                                                                      \
            FG_SIPHASH_P(P, V, L, 1);                                                                               \
            std::memcpy(pr, &r[0], sizeof(V));                                                                      \
            for (std::size_t j = 0; j < w; j++) {                                                                   \
                if (j < m) {                                                                                        \
                    out[i + j] = pr[j];                                                                             \
                }                                                                                                   \
            }                                                                                                       \
        }                                                                                                           \
    } while (0)

// Up to this many lanes left after the whole vectors go through the scalar
// code (bench/syncookie_bench.cc at bursts 1..8, BM_TsOffsetBurst and
// BM_CookieMakeBurst: a vector pass costs about as much as this many
// single hashes).
constexpr std::size_t avx2_scalar_tail = 2;
constexpr std::size_t avx512_scalar_tail = 3;

template <sip_len L, int S>
__attribute__((target("arch=x86-64-v3"))) void lanes_avx2(const siphash_key& k, std::size_t n, const uint64_t* m0,
                                                          const uint64_t* m1, uint64_t* out)
{
    FG_LANES_BODY(A2, u64x4, 4, L, S, avx2_scalar_tail);
}

// clang prefers 256-bit vectors on AVX-512 targets and would split u64x8
// into ymm halves unless told the function wants zmm.
#if defined(__clang__)
#define FG_ZMM __attribute__((min_vector_width(512)))
#else
#define FG_ZMM
#endif

template <sip_len L, int S>
__attribute__((target("arch=x86-64-v4"))) FG_ZMM void lanes_avx512(const siphash_key& k, std::size_t n, const uint64_t* m0,
                                                            const uint64_t* m1, uint64_t* out)
{
    FG_LANES_BODY(A5, u64x8, 8, L, S, avx512_scalar_tail);
}

// ---- dispatch --------------------------------------------------------------------------

using lanes_fn = void (*)(const siphash_key&, std::size_t, const uint64_t*, const uint64_t*, uint64_t*);

// Register sets per step, chosen by bench/syncookie_bench.cc (BM_SiphashLanes:
// two sets were 8-12% cheaper per hash than one for both ISAs).
constexpr int avx2_sets = 2;
constexpr int avx512_sets = 2;

constexpr std::size_t len_index(sip_len len) { return len == sip_len::u32x2 ? 0 : len == sip_len::u32x3 ? 1 : 2; }

// [sets - 1][level][len_index]
constexpr lanes_fn by_sets[2][3][3] = {
    {{lanes_scalar<sip_len::u32x2>, lanes_scalar<sip_len::u32x3>, lanes_scalar<sip_len::u32x4>},
     {lanes_avx2<sip_len::u32x2, 1>, lanes_avx2<sip_len::u32x3, 1>, lanes_avx2<sip_len::u32x4, 1>},
     {lanes_avx512<sip_len::u32x2, 1>, lanes_avx512<sip_len::u32x3, 1>, lanes_avx512<sip_len::u32x4, 1>}},
    {{lanes_scalar<sip_len::u32x2>, lanes_scalar<sip_len::u32x3>, lanes_scalar<sip_len::u32x4>},
     {lanes_avx2<sip_len::u32x2, 2>, lanes_avx2<sip_len::u32x3, 2>, lanes_avx2<sip_len::u32x4, 2>},
     {lanes_avx512<sip_len::u32x2, 2>, lanes_avx512<sip_len::u32x3, 2>, lanes_avx512<sip_len::u32x4, 2>}},
};

// [level][len_index]: each level's default.
constexpr lanes_fn by_level[3][3] = {
    {by_sets[0][0][0], by_sets[0][0][1], by_sets[0][0][2]},
    {by_sets[avx2_sets - 1][1][0], by_sets[avx2_sets - 1][1][1], by_sets[avx2_sets - 1][1][2]},
    {by_sets[avx512_sets - 1][2][0], by_sets[avx512_sets - 1][2][1], by_sets[avx512_sets - 1][2][2]},
};

// [level]: up to this many lanes in all, the scalar code does the call.
constexpr std::size_t scalar_max[3] = {0, avx2_scalar_tail, avx512_scalar_tail};

// `level` must be one the CPU supports.
inline void run(simd level, const siphash_key& key, sip_len len, std::size_t n, const uint64_t* m0,
                const uint64_t* m1, uint64_t* out)
{
    const std::size_t l = n > scalar_max[std::size_t(level)] ? std::size_t(level) : 0;
    by_level[l][len_index(len)](key, n, m0, m1, out);
}

} // namespace

void siphash_lanes(simd level, const siphash_key& key, sip_len len, std::size_t n, const uint64_t* m0,
                   const uint64_t* m1, uint64_t* out)
{
    run(std::min(level, simd_supported()), key, len, n, m0, m1, out);
}

void siphash_lanes(const siphash_key& key, sip_len len, std::size_t n, const uint64_t* m0, const uint64_t* m1,
                   uint64_t* out)
{
    run(simd_active(), key, len, n, m0, m1, out); // always a level the CPU supports
}

namespace detail {
void siphash_lanes_sets(simd level, int sets, const siphash_key& key, sip_len len, std::size_t n,
                        const uint64_t* m0, const uint64_t* m1, uint64_t* out)
{
    by_sets[std::clamp(sets, 1, 2) - 1][std::size_t(std::min(level, simd_supported()))][len_index(len)](key, n, m0, m1,
                                                                                                    out);
}
} // namespace detail

} // namespace fg
