#include <gtest/gtest.h>

#include <memory>
#include <random>

#include <rte_thash.h>

#include "base/steer.hh"

namespace fg {
namespace {

uint32_t softrss(const tuple4& t, const steering& s)
{
    // rte_softrss wants host-order words: src addr, dst addr, (sport << 16 | dport),
    // and reads both them and the key as aligned u32 words.
    alignas(uint32_t) uint32_t in[3] = {rte_be_to_cpu_32(t.raddr), rte_be_to_cpu_32(t.laddr),
                      (uint32_t(rte_be_to_cpu_16(t.rport)) << 16) | rte_be_to_cpu_16(t.lport)};
    return rte_softrss(in, 3, s.key().data());
}

TEST(Steering, TableToeplitzEqualsRteSoftrss)
{
    steering s(2);
    std::mt19937 rng(1);
    for (int i = 0; i < 10000; i++) {
        tuple4 t{uint32_t(rng()), uint32_t(rng()), uint16_t(rng()), uint16_t(rng())};
        ASSERT_EQ(s.hash(t), softrss(t, s)) << i;
    }
}

// rte_softrss() loads the key as u32 words: a misaligned key is undefined
// behaviour (UBSan stopped unit-base on it under -Db_sanitize=address,undefined).
TEST(Steering, KeyIsWordAligned)
{
    const steering s(2);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(s.key().data()) % alignof(uint32_t), 0u);
    const auto heap = std::make_unique<steering>(1);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(heap->key().data()) % alignof(uint32_t), 0u);
}

TEST(Steering, SymmetricKeyHashesBothDirectionsAlike)
{
    steering s(4);
    std::mt19937 rng(2);
    for (int i = 0; i < 10000; i++) {
        tuple4 t{uint32_t(rng()), uint32_t(rng()), uint16_t(rng()), uint16_t(rng())};
        tuple4 r{t.raddr, t.laddr, t.rport, t.lport};
        ASSERT_EQ(s.hash(t), s.hash(r));
        ASSERT_EQ(s.owner(t), s.owner(r));
    }
}

TEST(Steering, LportDeltaIsLinear)
{
    steering s(2);
    std::mt19937 rng(3);
    for (int i = 0; i < 10000; i++) {
        tuple4 t{uint32_t(rng()), uint32_t(rng()), uint16_t(rng()), uint16_t(rng())};
        tuple4 z = t;
        z.lport = 0;
        ASSERT_EQ(s.hash(t), s.hash(z) ^ s.lport_delta(t.lport));
    }
}

TEST(Steering, OwnersSpreadOverAllLcores)
{
    steering s(2);
    std::mt19937 rng(4);
    int count[2] = {0, 0};
    for (int i = 0; i < 10000; i++) {
        tuple4 t{uint32_t(rng()), uint32_t(rng()), uint16_t(rng()), uint16_t(rng())};
        count[s.owner(t)]++;
    }
    EXPECT_GT(count[0], 4000);
    EXPECT_GT(count[1], 4000);
}

TEST(Steering, RejectsBadRetaSize)
{
    EXPECT_THROW(steering(2, 100), std::invalid_argument);
    EXPECT_THROW(steering(0, 128), std::invalid_argument);
}

} // namespace
} // namespace fg
