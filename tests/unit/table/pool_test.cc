#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "table/pool.hh"

namespace fg::table {
namespace {

// Stand-in for the 64-byte connection block.
struct alignas(64) block {
    uint64_t timer_link;
    uint32_t words[14];
};
static_assert(sizeof(block) == 64);

TEST(Pool, AllocUntilExhaustedThenFreeAndReuse)
{
    pool<block> p;
    ASSERT_TRUE(p.init(100, 3, false));
    EXPECT_EQ(p.capacity(), 100u);
    std::set<uint32_t> got;
    for (int i = 0; i < 100; i++) {
        const uint32_t s = p.alloc();
        ASSERT_NE(s, pool<block>::none);
        ASSERT_LT(s, 100u);
        ASSERT_TRUE(got.insert(s).second) << "slot handed out twice: " << s;
    }
    EXPECT_EQ(p.in_use(), 100u);
    EXPECT_EQ(p.alloc(), pool<block>::none);
    EXPECT_EQ(p.alloc(), pool<block>::none);
    EXPECT_EQ(p.stats().exhausted, 2u);
    ASSERT_TRUE(p.free(42));
    EXPECT_EQ(p.in_use(), 99u);
    EXPECT_EQ(p.alloc(), 42u); // the freed slot comes straight back (LIFO)
    EXPECT_EQ(p.alloc(), pool<block>::none);
}

TEST(Pool, FullThenChurnTenTimesNeverFails)
{
    constexpr uint32_t cap = 10000;
    pool<block> p;
    ASSERT_TRUE(p.init(cap, 0, false));
    std::vector<uint32_t> live;
    for (uint32_t i = 0; i < cap; i++) {
        live.push_back(p.alloc());
        ASSERT_NE(live.back(), pool<block>::none);
    }
    uint64_t ok = 0;
    uint32_t x = 12345;
    for (uint32_t r = 0; r < 10 * cap; r++) {
        x = x * 1103515245u + 12345u;
        const uint32_t j = (x >> 8) % cap;
        ASSERT_TRUE(p.free(live[j]));
        live[j] = p.alloc();
        ok += live[j] != pool<block>::none;
    }
    EXPECT_EQ(ok, 10ull * cap);
    EXPECT_EQ(p.in_use(), cap);
    EXPECT_EQ(p.alloc(), pool<block>::none);
    std::set<uint32_t> distinct(live.begin(), live.end());
    EXPECT_EQ(distinct.size(), std::size_t(cap));
}

TEST(Pool, FreeListIsLifoAndNeverLosesSlots)
{
    pool<block> p;
    ASSERT_TRUE(p.init(1000, 0, false));
    std::vector<uint32_t> v;
    for (int i = 0; i < 1000; i++) {
        v.push_back(p.alloc());
    }
    for (uint32_t s : v) {
        ASSERT_TRUE(p.free(s));
    }
    EXPECT_EQ(p.in_use(), 0u);
    // Reverse order of the frees, and exactly 1000 of them again.
    for (int i = 999; i >= 0; i--) {
        ASSERT_EQ(p.alloc(), v[i]);
    }
    EXPECT_EQ(p.alloc(), pool<block>::none);
}

TEST(Pool, AllocZeroFills)
{
    pool<block> p;
    ASSERT_TRUE(p.init(4, 0, false));
    const uint32_t s = p.alloc();
    std::memset(&p[s], 0xAB, sizeof(block));
    ASSERT_TRUE(p.free(s));
    ASSERT_EQ(p.alloc(), s);
    const auto* b = reinterpret_cast<const uint8_t*>(&p[s]);
    for (std::size_t i = 0; i < sizeof(block); i++) {
        ASSERT_EQ(b[i], 0) << "byte " << i;
    }
}

TEST(Pool, DoubleFreeAndBadSlotRefused)
{
    pool<block> p;
    ASSERT_TRUE(p.init(8, 0, false));
    const uint32_t a = p.alloc();
    const uint32_t b = p.alloc();
    EXPECT_TRUE(p.free(a));
    EXPECT_FALSE(p.free(a));
    EXPECT_FALSE(p.free(7));                     // never allocated
    EXPECT_FALSE(p.free(8));                     // out of range
    EXPECT_FALSE(p.free(pool<block>::none));
    EXPECT_EQ(p.stats().bad_frees, 4u);
    EXPECT_EQ(p.in_use(), 1u);
    // The refused double free did not put `a` on the free list twice.
    const uint32_t c = p.alloc();
    const uint32_t d = p.alloc();
    EXPECT_EQ(c, a);
    EXPECT_NE(d, a);
    EXPECT_NE(d, b);
}

TEST(Pool, StaleHandleAfterFreeAndAfterRealloc)
{
    pool<block> p;
    ASSERT_TRUE(p.init(8, 5, false));
    const uint32_t s = p.alloc();
    const handle h = p.make_handle(s);
    EXPECT_EQ(h.slot, s);
    EXPECT_EQ(h.lcore, 5u);
    EXPECT_EQ(p.resolve(h), &p[s]);
    ASSERT_TRUE(p.free(s));
    EXPECT_EQ(p.resolve(h), nullptr);  // after free
    ASSERT_EQ(p.alloc(), s);
    EXPECT_EQ(p.resolve(h), nullptr);  // after the slot went to someone else
    const handle h2 = p.make_handle(s);
    EXPECT_NE(h2.gen, h.gen);
    EXPECT_EQ(p.resolve(h2), &p[s]);
}

TEST(Pool, WrongLcoreOutOfRangeAndZeroHandlesRefused)
{
    pool<block> p;
    ASSERT_TRUE(p.init(8, 2, false));
    const uint32_t s = p.alloc(); // slot 0, generation 1
    handle h = p.make_handle(s);
    handle other = h;
    other.lcore = 3;
    EXPECT_EQ(p.resolve(other), nullptr);
    handle far = h;
    far.slot = 8;
    EXPECT_EQ(p.resolve(far), nullptr);
    far.slot = 0xFFFFFFFF;
    EXPECT_EQ(p.resolve(far), nullptr);
    handle unused = h;
    unused.slot = 5; // never allocated
    EXPECT_EQ(p.resolve(unused), nullptr);
    pool<block> p0;
    ASSERT_TRUE(p0.init(8, 0, false));
    ASSERT_EQ(p0.alloc(), 0u);
    EXPECT_EQ(p0.resolve(handle{0, 0, 0}), nullptr) << "an all-zero handle must never resolve";
    EXPECT_NE(p0.resolve(p0.make_handle(0)), nullptr);
}

TEST(Pool, GenerationWrapsPastZero)
{
    pool<block> p;
    ASSERT_TRUE(p.init(1, 0, false));
    uint32_t prev = 0;
    for (uint32_t i = 0; i < (1u << 24) + 3; i++) {
        const uint32_t s = p.alloc();
        ASSERT_EQ(s, 0u);
        const handle h = p.make_handle(s);
        ASSERT_NE(h.gen, 0u);
        ASSERT_NE(h.gen, prev);
        prev = h.gen;
        ASSERT_TRUE(p.free(s));
    }
}

TEST(Pool, MemoryAndInitErrors)
{
    pool<block> p;
    EXPECT_FALSE(p.init(0, 0, false));
    ASSERT_TRUE(p.init(1u << 20, 0, true));
    EXPECT_FALSE(p.init(10, 0, false));
    EXPECT_GE(p.memory_bytes(), (std::size_t(1) << 20) * (sizeof(block) + 4));
    EXPECT_LE(p.overhead_per_object(), 8.0); // 4-byte generation word + hugepage rounding
}

} // namespace
} // namespace fg::table
