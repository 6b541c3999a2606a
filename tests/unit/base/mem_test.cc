#include <gtest/gtest.h>

#include "base/mem.hh"

namespace fg {
namespace {

TEST(HugeAlloc, ZeroedWritableAndFreed)
{
    huge_region r = alloc_huge(3u << 20);
    ASSERT_NE(r.ptr, nullptr);
    ASSERT_GE(r.bytes, 3u << 20);
    auto* p = static_cast<uint8_t*>(r.ptr);
    for (std::size_t i = 0; i < r.bytes; i += 4096) {
        ASSERT_EQ(p[i], 0);
        p[i] = 1;
    }
    free_huge(r);
    EXPECT_EQ(r.ptr, nullptr);
}

TEST(HugeAlloc, ZeroBytesGivesNothing)
{
    huge_region r = alloc_huge(0);
    EXPECT_EQ(r.ptr, nullptr);
}

} // namespace
} // namespace fg
