// SipHash-2-4 (Aumasson & Bernstein), the keyed hash Linux uses for ISNs
// (secure_tcp_seq), timestamp offsets, ephemeral port offsets and SYN cookies.
// siphash_3u32()/siphash_4u32() reproduce the kernel's helpers of the same
// name bit for bit (on little-endian hosts they hash the words' bytes in order),
// so our cookies and offsets are computed exactly as Linux computes them.
#pragma once

#include <cstdint>
#include <cstring>

namespace fg {

struct siphash_key {
    uint64_t k[2];
};

namespace detail {
inline uint64_t rotl64(uint64_t x, int b) { return (x << b) | (x >> (64 - b)); }
#define FG_SIPROUND                                                                                                 \
    do {                                                                                                            \
        v0 += v1;                                                                                                   \
        v1 = detail::rotl64(v1, 13);                                                                                \
        v1 ^= v0;                                                                                                   \
        v0 = detail::rotl64(v0, 32);                                                                                \
        v2 += v3;                                                                                                   \
        v3 = detail::rotl64(v3, 16);                                                                                \
        v3 ^= v2;                                                                                                   \
        v0 += v3;                                                                                                   \
        v3 = detail::rotl64(v3, 21);                                                                                \
        v3 ^= v0;                                                                                                   \
        v2 += v1;                                                                                                   \
        v1 = detail::rotl64(v1, 17);                                                                                \
        v1 ^= v2;                                                                                                   \
        v2 = detail::rotl64(v2, 32);                                                                                \
    } while (0)
} // namespace detail

// SipHash-2-4 of `len` bytes (little-endian word loads, as the reference code).
inline uint64_t siphash(const void* data, std::size_t len, const siphash_key& key)
{
    uint64_t v0 = 0x736f6d6570736575ull ^ key.k[0];
    uint64_t v1 = 0x646f72616e646f6dull ^ key.k[1];
    uint64_t v2 = 0x6c7967656e657261ull ^ key.k[0];
    uint64_t v3 = 0x7465646279746573ull ^ key.k[1];
    const auto* p = static_cast<const uint8_t*>(data);
    const std::size_t full = len & ~std::size_t(7);
    for (std::size_t i = 0; i < full; i += 8) {
        uint64_t m;
        std::memcpy(&m, p + i, 8);
        v3 ^= m;
        FG_SIPROUND;
        FG_SIPROUND;
        v0 ^= m;
    }
    uint64_t b = uint64_t(len) << 56;
    for (std::size_t i = 0; i < (len & 7); i++) {
        b |= uint64_t(p[full + i]) << (8 * i);
    }
    v3 ^= b;
    FG_SIPROUND;
    FG_SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    FG_SIPROUND;
    FG_SIPROUND;
    FG_SIPROUND;
    FG_SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}
#undef FG_SIPROUND

inline uint64_t siphash_2u32(uint32_t a, uint32_t b, const siphash_key& key)
{
    const uint32_t w[2] = {a, b};
    return siphash(w, sizeof(w), key);
}

inline uint64_t siphash_3u32(uint32_t a, uint32_t b, uint32_t c, const siphash_key& key)
{
    const uint32_t w[3] = {a, b, c};
    return siphash(w, sizeof(w), key);
}

inline uint64_t siphash_4u32(uint32_t a, uint32_t b, uint32_t c, uint32_t d, const siphash_key& key)
{
    const uint32_t w[4] = {a, b, c, d};
    return siphash(w, sizeof(w), key);
}

// A key from the kernel's CSPRNG (getrandom). Throws std::runtime_error if the
// kernel refuses, which only happens on a broken system.
siphash_key random_siphash_key();

} // namespace fg
