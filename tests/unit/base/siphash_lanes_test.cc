#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <random>
#include <vector>

#include "base/siphash_lanes.hh"
#include "simd_param.hh"

namespace fg {
namespace {

constexpr sip_len all_lens[] = {sip_len::u32x2, sip_len::u32x3, sip_len::u32x4};

// The one-message helpers (checked against the SipHash paper's vectors in
// siphash_test.cc) on lane i's words.
uint64_t one(const siphash_key& k, sip_len len, uint64_t m0, uint64_t m1)
{
    const auto a = uint32_t(m0);
    const auto b = uint32_t(m0 >> 32);
    switch (len) {
    case sip_len::u32x2:
        return siphash_2u32(a, b, k);
    case sip_len::u32x3:
        return siphash_3u32(a, b, uint32_t(m1), k);
    case sip_len::u32x4:
        break;
    }
    return siphash_4u32(a, b, uint32_t(m1), uint32_t(m1 >> 32), k);
}

class SiphashLanes : public test::simd_test {};

// Every length, every n from 0 to 80 (all tail shapes of 4, 8 and 16 lanes),
// random keys and words, both register-set counts: equal to one at a time.
TEST_P(SiphashLanes, EqualToOneAtATime)
{
    std::mt19937_64 rng(uint64_t(level()) + 1);
    std::vector<uint64_t> m0(80), m1(80), out(81);
    for (int round = 0; round < 40; round++) {
        const siphash_key k{{rng(), rng()}};
        for (auto& x : m0) {
            x = rng();
        }
        for (auto& x : m1) {
            x = rng();
        }
        for (sip_len len : all_lens) {
            for (std::size_t n = 0; n <= 80; n++) {
                for (int sets : {0, 1, 2}) { // 0: the public call, default sets
                    std::fill(out.begin(), out.end(), 0x5A5A5A5A5A5A5A5Aull);
                    if (sets == 0) {
                        siphash_lanes(k, len, n, m0.data(), m1.data(), out.data());
                    } else {
                        detail::siphash_lanes_sets(level(), sets, k, len, n, m0.data(), m1.data(), out.data());
                    }
                    for (std::size_t i = 0; i < n; i++) {
                        ASSERT_EQ(out[i], one(k, len, m0[i], m1[i]))
                            << "len " << int(len) << " n " << n << " lane " << i << " sets " << sets;
                    }
                    ASSERT_EQ(out[n], 0x5A5A5A5A5A5A5A5Aull) << "wrote past n = " << n;
                }
            }
        }
    }
}

// Large random input through the public call (the level forced by the fixture).
TEST_P(SiphashLanes, LargeRandomInput)
{
    std::mt19937_64 rng(77);
    const std::size_t n = 100003;
    std::vector<uint64_t> m0(n), m1(n), out(n);
    for (std::size_t i = 0; i < n; i++) {
        m0[i] = rng();
        m1[i] = rng();
    }
    const siphash_key k{{rng(), rng()}};
    for (sip_len len : all_lens) {
        siphash_lanes(k, len, n, m0.data(), m1.data(), out.data());
        for (std::size_t i = 0; i < n; i++) {
            ASSERT_EQ(out[i], one(k, len, m0[i], m1[i])) << "len " << int(len) << " lane " << i;
        }
    }
}

TEST_P(SiphashLanes, TwoWordsNeedNoSecondArray)
{
    const siphash_key k{{11, 12}};
    const uint64_t m0[5] = {1, 2, 3, 4, 5};
    uint64_t out[5];
    siphash_lanes(k, sip_len::u32x2, 5, m0, nullptr, out);
    for (int i = 0; i < 5; i++) {
        EXPECT_EQ(out[i], siphash_2u32(uint32_t(m0[i]), 0, k));
    }
}

TEST_P(SiphashLanes, ThreeWordsIgnoreHighHalfOfSecondWord)
{
    const siphash_key k{{21, 22}};
    const uint64_t m0[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    uint64_t m1[9], m1_dirty[9], a[9], b[9];
    for (int i = 0; i < 9; i++) {
        m1[i] = uint32_t(i * 0x9E3779B9u);
        m1_dirty[i] = m1[i] | (uint64_t(0xDEAD0000u + uint32_t(i)) << 32);
    }
    siphash_lanes(k, sip_len::u32x3, 9, m0, m1, a);
    siphash_lanes(k, sip_len::u32x3, 9, m0, m1_dirty, b);
    for (int i = 0; i < 9; i++) {
        EXPECT_EQ(a[i], b[i]);
        EXPECT_EQ(a[i], siphash_3u32(uint32_t(m0[i]), 0, uint32_t(m1[i]), k));
    }
}

// Masked tails read nothing past the last lane: the inputs end exactly at an
// inaccessible page, so an over-read faults.
TEST_P(SiphashLanes, ReadsNothingPastTheLastLane)
{
    const std::size_t page = std::size_t(sysconf(_SC_PAGESIZE));
    auto* base = static_cast<uint8_t*>(mmap(nullptr, 3 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    ASSERT_NE(base, MAP_FAILED);
    ASSERT_EQ(mprotect(base + page, page, PROT_NONE), 0);
    ASSERT_EQ(mprotect(base + 2 * page, page, PROT_NONE), 0);
    const siphash_key k{{5, 6}};
    std::mt19937_64 rng(3);
    for (std::size_t n = 1; n <= 40; n++) {
        // m0 ends at the first guard page; m1 starts at... also ends there:
        // use two distinct windows in the one readable page.
        auto* m0 = reinterpret_cast<uint64_t*>(base + page) - n;
        auto* m1 = m0 - 64;
        for (std::size_t i = 0; i < n; i++) {
            m0[i] = rng();
            m1[i] = rng();
        }
        for (sip_len len : all_lens) {
            for (int sets : {1, 2}) {
                std::vector<uint64_t> out(n);
                detail::siphash_lanes_sets(level(), sets, k, len, n, m0, m1, out.data());
                for (std::size_t i = 0; i < n; i++) {
                    ASSERT_EQ(out[i], one(k, len, m0[i], m1[i]));
                }
            }
        }
        // And m1 at the edge (m0 inside).
        auto* m1e = reinterpret_cast<uint64_t*>(base + page) - n;
        auto* m0e = m1e - 64;
        for (sip_len len : {sip_len::u32x3, sip_len::u32x4}) {
            std::vector<uint64_t> out(n);
            siphash_lanes(level(), k, len, n, m0e, m1e, out.data());
            for (std::size_t i = 0; i < n; i++) {
                ASSERT_EQ(out[i], one(k, len, m0e[i], m1e[i]));
            }
        }
    }
    munmap(base, 3 * page);
}

FG_INSTANTIATE_SIMD(SiphashLanes);

// A level the CPU lacks is lowered, never run.
TEST(SiphashLanesLevel, WiderThanCpuIsLowered)
{
    const siphash_key k{{1, 2}};
    const uint64_t m0[3] = {7, 8, 9};
    uint64_t out[3];
    siphash_lanes(simd::avx512, k, sip_len::u32x2, 3, m0, nullptr, out); // SIGILL here if not lowered
    for (int i = 0; i < 3; i++) {
        EXPECT_EQ(out[i], siphash_2u32(uint32_t(m0[i]), 0, k));
    }
}

} // namespace
} // namespace fg
