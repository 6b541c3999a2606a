#include <gtest/gtest.h>

#include "base/siphash.hh"

namespace fg {
namespace {

// Reference vectors from the SipHash paper (Appendix A): key 00..0f,
// message 00..(n-1), SipHash-2-4 64-bit output.
TEST(Siphash, PaperVectors)
{
    siphash_key key{};
    uint8_t kb[16];
    for (int i = 0; i < 16; i++) {
        kb[i] = uint8_t(i);
    }
    std::memcpy(&key, kb, 16);
    uint8_t msg[64];
    for (int i = 0; i < 64; i++) {
        msg[i] = uint8_t(i);
    }
    EXPECT_EQ(siphash(msg, 0, key), 0x726fdb47dd0e0e31ull);
    EXPECT_EQ(siphash(msg, 1, key), 0x74f839c593dc67fdull);
    EXPECT_EQ(siphash(msg, 8, key), 0x93f5f5799a932462ull);
    EXPECT_EQ(siphash(msg, 15, key), 0xa129ca6149be45e5ull);
    EXPECT_EQ(siphash(msg, 63, key), 0x958a324ceb064572ull);
}

TEST(Siphash, WordHelpersHashWordsInOrder)
{
    siphash_key key{{0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull}};
    uint8_t msg[16];
    for (int i = 0; i < 16; i++) {
        msg[i] = uint8_t(i);
    }
    uint32_t w[4];
    std::memcpy(w, msg, 16);
    EXPECT_EQ(siphash_4u32(w[0], w[1], w[2], w[3], key), siphash(msg, 16, key));
    EXPECT_EQ(siphash_3u32(w[0], w[1], w[2], key), siphash(msg, 12, key));
    EXPECT_EQ(siphash_2u32(w[0], w[1], key), siphash(msg, 8, key));
}

TEST(Siphash, RandomKeysDiffer)
{
    siphash_key a = random_siphash_key();
    siphash_key b = random_siphash_key();
    EXPECT_FALSE(a.k[0] == b.k[0] && a.k[1] == b.k[1]);
}

// Secrets (ISN, timestamps, cookies, ports) come from random_siphash_key():
// not zero, and every one of the 128 bits both set and clear across 64 keys
// -- a key derived from the time or the pid (a few dozen varying bits,
// stretched) leaves bits stuck; a chance failure needs one bit equal in all
// 64 keys (128 x 2^-63).
TEST(Siphash, RandomKeysUseEveryBit)
{
    uint64_t any[2] = {0, 0};
    uint64_t all[2] = {~0ull, ~0ull};
    for (int i = 0; i < 64; i++) {
        const siphash_key k = random_siphash_key();
        EXPECT_FALSE(k.k[0] == 0 && k.k[1] == 0);
        for (int w = 0; w < 2; w++) {
            any[w] |= k.k[w];
            all[w] &= k.k[w];
        }
    }
    EXPECT_EQ(any[0], ~0ull);
    EXPECT_EQ(any[1], ~0ull);
    EXPECT_EQ(all[0], 0ull);
    EXPECT_EQ(all[1], 0ull);
}

} // namespace
} // namespace fg
