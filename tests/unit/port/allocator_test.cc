#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <set>
#include <stdexcept>
#include <unordered_set>
#include <vector>

#include "port/allocator.hh"

namespace fg::port {
namespace {

struct tuple_hash {
    std::size_t operator()(const tuple4& t) const noexcept
    {
        return std::size_t(siphash_3u32(t.laddr, t.raddr, (uint32_t(t.lport) << 16) | t.rport, siphash_key{{1, 2}}));
    }
};
using tuple_set = std::unordered_set<tuple4, tuple_hash>;

constexpr siphash_key test_key{{0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull}};

const rte_be32_t local_a = rte_cpu_to_be_32(ipv4(198, 18, 0, 1));
const rte_be32_t local_b = rte_cpu_to_be_32(ipv4(198, 18, 0, 2));
const rte_be32_t local_c = rte_cpu_to_be_32(ipv4(198, 18, 0, 3));
const rte_be32_t server = rte_cpu_to_be_32(ipv4(198, 19, 0, 10));
const rte_be32_t server2 = rte_cpu_to_be_32(ipv4(198, 19, 0, 11));
const rte_be16_t http = rte_cpu_to_be_16(80);

config range(uint16_t lo, uint16_t hi, std::vector<uint16_t> reserved = {})
{
    config c;
    c.lo = lo;
    c.hi = hi;
    c.reserved = std::move(reserved);
    return c;
}

// A busy set that accepts a free 4-tuple by recording it (as a connect would).
struct recorder {
    tuple_set busy;
    uint32_t calls = 0;
    tuple_state operator()(const tuple4& t)
    {
        calls++;
        return busy.count(t) ? tuple_state::busy : tuple_state::free;
    }
};

// Allocates for (laddr -> raddr:rport) until exhaustion; returns the ports.
std::vector<int> drain(allocator& a, recorder& r, rte_be32_t laddr, rte_be32_t raddr, rte_be16_t rport)
{
    std::vector<int> ports;
    for (;;) {
        const int p = a.alloc(laddr, raddr, rport, r);
        if (p < 0) {
            EXPECT_EQ(p, -EADDRNOTAVAIL);
            break;
        }
        const tuple4 t{laddr, raddr, rte_cpu_to_be_16(uint16_t(p)), rport};
        EXPECT_TRUE(r.busy.insert(t).second) << "duplicate 4-tuple, port " << p;
        ports.push_back(p);
        if (ports.size() > 70000) {
            ADD_FAILURE() << "no exhaustion";
            break;
        }
    }
    return ports;
}

uint32_t owned_in_range(const steering& s, uint16_t lcore, uint16_t lo, uint16_t hi, rte_be32_t laddr,
                        rte_be32_t raddr, rte_be16_t rport)
{
    uint32_t n = 0;
    for (uint32_t p = lo; p <= hi; p++) {
        n += s.owner(tuple4{laddr, raddr, rte_cpu_to_be_16(uint16_t(p)), rport}) == lcore;
    }
    return n;
}

TEST(PortAllocator, UniqueUntilExhaustionOneOwner)
{
    steering s(1);
    allocator a(range(40000, 40999), s, 0, test_key);
    recorder r;
    auto ports = drain(a, r, local_a, server, http);
    EXPECT_EQ(ports.size(), 1000u);
    std::set<int> uniq(ports.begin(), ports.end());
    EXPECT_EQ(uniq.size(), 1000u);
    EXPECT_EQ(*uniq.begin(), 40000);
    EXPECT_EQ(*uniq.rbegin(), 40999);
    EXPECT_EQ(a.stats().allocated, 1000u);
    EXPECT_EQ(a.stats().exhausted, 1u);
}

// (Draining one destination is quadratic once one parity is used up, in Linux
// too: every call scans that parity first. Hence 4000-port ranges here.)
TEST(PortAllocator, UniqueUntilExhaustionTwoOwners)
{
    steering s(2);
    allocator a(range(20000, 23999), s, 1, test_key);
    recorder r;
    auto ports = drain(a, r, local_a, server, http);
    EXPECT_EQ(ports.size(), owned_in_range(s, 1, 20000, 23999, local_a, server, http));
    EXPECT_GT(ports.size(), 1500u);
    for (int p : ports) {
        ASSERT_GE(p, 20000);
        ASSERT_LE(p, 23999);
    }
}

TEST(PortAllocator, SamePortServesDifferentDestinations)
{
    steering s(1);
    allocator a(range(50000, 50001), s, 0, test_key);
    recorder r;
    auto to_a = drain(a, r, local_a, server, http);
    auto to_b = drain(a, r, local_a, server2, http);
    auto to_c = drain(a, r, local_a, server, rte_cpu_to_be_16(443));
    std::sort(to_a.begin(), to_a.end());
    std::sort(to_b.begin(), to_b.end());
    std::sort(to_c.begin(), to_c.end());
    EXPECT_EQ(to_a, (std::vector<int>{50000, 50001}));
    EXPECT_EQ(to_b, to_a);
    EXPECT_EQ(to_c, to_a);
}

TEST(PortAllocator, LowParityFirstThenTheOther)
{
    steering s(1);
    // Several destinations, so the hashed start offset takes both parities.
    for (uint16_t lo : {40000, 40001}) {
        for (uint16_t dport : {80, 443, 8080, 25, 22, 53, 5201, 9000}) {
            allocator a(range(lo, uint16_t(lo + 999)), s, 0, test_key);
            recorder r;
            auto ports = drain(a, r, local_a, server, rte_cpu_to_be_16(dport));
            ASSERT_EQ(ports.size(), 1000u);
            for (std::size_t k = 0; k < 500; k++) {
                ASSERT_EQ(ports[k] % 2, lo % 2) << "allocation " << k;
            }
            for (std::size_t k = 500; k < 1000; k++) {
                ASSERT_NE(ports[k] % 2, lo % 2) << "allocation " << k;
            }
        }
    }
}

TEST(PortAllocator, ExhaustionIsPromptAndBounded)
{
    steering s(1);
    allocator a(range(60000, 60015), s, 0, test_key);
    recorder r;
    auto ports = drain(a, r, local_a, server, http);
    EXPECT_EQ(ports.size(), 16u);
    r.calls = 0;
    EXPECT_EQ(a.alloc(local_a, server, http, r), -EADDRNOTAVAIL);
    EXPECT_EQ(r.calls, 16u); // each candidate asked once, then give up

    // A full default range, everything busy: one pass, then the error.
    allocator b(config{}, s, 0, test_key);
    uint32_t calls = 0;
    EXPECT_EQ(b.alloc(local_a, server, http,
                      [&](const tuple4&) {
                          calls++;
                          return tuple_state::busy;
                      }),
              -EADDRNOTAVAIL);
    EXPECT_EQ(calls, 60999u - 32768u + 1u);
}

TEST(PortAllocator, ReservedPortsNeverReturned)
{
    steering s(1);
    const std::vector<uint16_t> res = {40000, 40001, 40500, 40999, 12345 /* outside: ignored */};
    allocator a(range(40000, 40999, res), s, 0, test_key);
    EXPECT_TRUE(a.reserved(40500));
    EXPECT_FALSE(a.reserved(40501));
    recorder r;
    auto ports = drain(a, r, local_a, server, http);
    EXPECT_EQ(ports.size(), 1000u - 4u);
    for (int p : ports) {
        ASSERT_TRUE(std::find(res.begin(), res.end(), p) == res.end()) << p;
    }
}

TEST(PortAllocator, EachLcoreHandsOutOnlyTuplesItOwns)
{
    for (uint16_t owners : {2, 4}) {
        steering s(owners);
        std::set<int> all;
        uint32_t total = 0;
        for (uint16_t lc = 0; lc < owners; lc++) {
            allocator a(range(20000, 23999), s, lc, test_key);
            recorder r;
            auto ports = drain(a, r, local_a, server, http);
            EXPECT_GT(ports.size(), 0u);
            for (int p : ports) {
                const tuple4 t{local_a, server, rte_cpu_to_be_16(uint16_t(p)), http};
                ASSERT_EQ(s.owner(t), lc) << "port " << p << " owners " << owners;
                ASSERT_TRUE(a.owns(local_a, server, http, uint16_t(p)));
                ASSERT_TRUE(all.insert(p).second) << "two lcores handed out port " << p;
            }
            total += uint32_t(ports.size());
            EXPECT_EQ(a.stats().not_owned > 0, true);
        }
        // Together the lcores cover the whole range.
        EXPECT_EQ(total, 4000u) << owners;
        EXPECT_EQ(*all.begin(), 20000);
        EXPECT_EQ(*all.rbegin(), 23999);
    }
}

TEST(PortAllocator, TimeWaitReuseIsTakenAndReported)
{
    steering s(1);
    allocator a(range(40000, 40999), s, 0, test_key);
    // Everything busy except one TIME_WAIT 4-tuple that may be recycled.
    const uint16_t tw_port = 40777;
    bool reused = false;
    const int p = a.alloc(
        local_a, server, http,
        [&](const tuple4& t) {
            return rte_be_to_cpu_16(t.lport) == tw_port ? tuple_state::time_wait_reusable : tuple_state::busy;
        },
        &reused);
    EXPECT_EQ(p, tw_port);
    EXPECT_TRUE(reused);
    EXPECT_EQ(a.stats().tw_reused, 1u);
    // A free 4-tuple reports no reuse.
    const int q = a.alloc(local_a, server, http, [](const tuple4&) { return tuple_state::free; }, &reused);
    EXPECT_GE(q, 40000);
    EXPECT_FALSE(reused);
    // Failure clears the flag too.
    reused = true;
    EXPECT_EQ(a.alloc(local_a, server, http, [](const tuple4&) { return tuple_state::busy; }, &reused),
              -EADDRNOTAVAIL);
    EXPECT_FALSE(reused);
}

TEST(PortAllocator, SeveralSourceAddresses)
{
    steering s(1);
    allocator a(range(50000, 50003), s, 0, test_key);
    const rte_be32_t locals[3] = {local_a, local_b, local_c};
    recorder r;
    std::set<std::pair<rte_be32_t, int>> pairs;
    std::vector<rte_be32_t> first_three;
    for (int k = 0; k < 12; k++) {
        rte_be32_t chosen = 0;
        const int p = a.alloc_any(locals, 3, server, http, r, &chosen);
        ASSERT_GE(p, 50000) << k;
        ASSERT_TRUE(chosen == local_a || chosen == local_b || chosen == local_c);
        ASSERT_TRUE(pairs.insert({chosen, p}).second);
        r.busy.insert(tuple4{chosen, server, rte_cpu_to_be_16(uint16_t(p)), http});
        if (k < 3) {
            first_three.push_back(chosen);
        }
    }
    // The starting address rotates: three calls, three addresses.
    std::sort(first_three.begin(), first_three.end());
    EXPECT_EQ(std::unique(first_three.begin(), first_three.end()) - first_three.begin(), 3);
    rte_be32_t chosen = 0;
    EXPECT_EQ(a.alloc_any(locals, 3, server, http, r, &chosen), -EADDRNOTAVAIL);
    EXPECT_EQ(a.stats().exhausted, 1u);
    EXPECT_EQ(a.alloc_any(locals, 0, server, http, r, &chosen), -EADDRNOTAVAIL);

    // When only the last address has room, it is found whatever the start.
    allocator b(range(50000, 50001), s, 0, test_key);
    recorder rb;
    for (rte_be32_t l : {local_a, local_b}) {
        for (int port : {50000, 50001}) {
            rb.busy.insert(tuple4{l, server, rte_cpu_to_be_16(uint16_t(port)), http});
        }
    }
    for (int k = 0; k < 2; k++) {
        const int p = b.alloc_any(locals, 3, server, http, rb, &chosen);
        ASSERT_GE(p, 50000);
        EXPECT_EQ(chosen, local_c);
        rb.busy.insert(tuple4{chosen, server, rte_cpu_to_be_16(uint16_t(p)), http});
    }
}

TEST(PortAllocator, BadConfigRejected)
{
    steering s(2);
    EXPECT_THROW(allocator(range(0, 100), s, 0, test_key), std::invalid_argument);
    EXPECT_THROW(allocator(range(2000, 1999), s, 0, test_key), std::invalid_argument);
    EXPECT_THROW(allocator(config{}, s, 2, test_key), std::invalid_argument);
    EXPECT_NO_THROW(allocator(range(1, 65535), s, 1, test_key));
    // A single port works.
    steering one(1);
    allocator a(range(7000, 7000), one, 0, test_key);
    recorder r;
    EXPECT_EQ(drain(a, r, local_a, server, http), std::vector<int>{7000});
}

TEST(PortAllocator, OddSizedRangeLosesOnePortLikeLinux)
{
    steering s(1);
    allocator a(range(1000, 1002), s, 0, test_key);
    recorder r;
    auto ports = drain(a, r, local_a, server, http);
    std::sort(ports.begin(), ports.end());
    EXPECT_EQ(ports, (std::vector<int>{1000, 1001}));
}

TEST(PortAllocator, DeterministicGivenTheKey)
{
    steering s(2);
    allocator a(config{}, s, 0, test_key);
    allocator b(config{}, s, 0, test_key);
    allocator c(config{}, s, 0, siphash_key{{1, 1}});
    recorder ra, rb, rc;
    std::vector<int> pa, pb, pc;
    for (int k = 0; k < 200; k++) {
        const rte_be32_t dst = rte_cpu_to_be_32(ipv4(198, 19, 1, uint8_t(k % 7)));
        pa.push_back(a.alloc(local_a, dst, http, ra));
        pb.push_back(b.alloc(local_a, dst, http, rb));
        pc.push_back(c.alloc(local_a, dst, http, rc));
        ra.busy.insert(tuple4{local_a, dst, rte_cpu_to_be_16(uint16_t(pa.back())), http});
        rb.busy.insert(tuple4{local_a, dst, rte_cpu_to_be_16(uint16_t(pb.back())), http});
        rc.busy.insert(tuple4{local_a, dst, rte_cpu_to_be_16(uint16_t(pc.back())), http});
    }
    EXPECT_EQ(pa, pb);
    EXPECT_NE(pa, pc);
}

// The first choice and the table update follow __inet_hash_connect().
TEST(PortAllocator, StartAndPerturbationFollowLinux)
{
    steering s(1);
    allocator a(config{}, s, 0, test_key);
    const uint64_t po = siphash_3u32(local_a, server, uint32_t(http), test_key);
    const uint32_t index = uint32_t(po) & 0xFFFF;
    const uint16_t before = a.perturb(index);
    const uint32_t remaining = 61000 - 32768;
    const uint32_t offset = ((uint32_t(before) + uint32_t(po >> 32)) % remaining) & ~1u;
    recorder r;
    EXPECT_EQ(a.alloc(local_a, server, http, r), int(32768 + offset));
    const uint16_t bump = uint16_t(a.perturb(index) - before); // i = 0: 2 * random_below(8) + 2
    EXPECT_EQ(bump % 2, 0);
    EXPECT_GE(bump, 2);
    EXPECT_LE(bump, 16);
    // The first candidate busy: the scan moves 2 on, and the slot advances by
    // at least the scan length + 2.
    const uint16_t before2 = a.perturb(index);
    const uint32_t offset2 = ((uint32_t(before2) + uint32_t(po >> 32)) % remaining) & ~1u;
    uint32_t port2 = 32768 + offset2;
    r.busy.insert(tuple4{local_a, server, rte_cpu_to_be_16(uint16_t(port2)), http});
    uint32_t expect = port2 + 2 >= 61000 ? port2 + 2 - remaining : port2 + 2;
    EXPECT_EQ(a.alloc(local_a, server, http, r), int(expect));
    const uint16_t bump2 = uint16_t(a.perturb(index) - before2);
    EXPECT_GE(bump2, 4);
    EXPECT_LE(bump2, 16);
    // 20 candidates busy in a row: i = 40 beats the random step, so the slot
    // advances by exactly 42.
    const uint16_t before3 = a.perturb(index);
    const uint32_t offset3 = ((uint32_t(before3) + uint32_t(po >> 32)) % remaining) & ~1u;
    uint32_t port3 = 32768 + offset3;
    for (int k = 0; k < 20; k++) {
        r.busy.insert(tuple4{local_a, server, rte_cpu_to_be_16(uint16_t(port3)), http});
        port3 = port3 + 2 >= 61000 ? port3 + 2 - remaining : port3 + 2;
    }
    EXPECT_EQ(a.alloc(local_a, server, http, r), int(port3));
    EXPECT_EQ(uint16_t(a.perturb(index) - before3), 42);
}

// Without frees, remembering a full parity changes nothing Linux would pick,
// only the work: Linux rescans the full parity on every call.
TEST(PortAllocator, FullParityHintPicksLinuxPortsWithLessWork)
{
    steering s(2);
    config hinted = range(20000, 23999);
    config linux_exact = hinted;
    linux_exact.remember_full_parity = false;
    allocator a(hinted, s, 0, test_key);
    allocator b(linux_exact, s, 0, test_key);
    recorder ra, rb;
    const auto pa = drain(a, ra, local_a, server, http);
    const auto pb = drain(b, rb, local_a, server, http);
    EXPECT_EQ(pa, pb);
    EXPECT_GT(a.stats().parity_skips, 0u);
    EXPECT_EQ(b.stats().parity_skips, 0u);
    EXPECT_LT(a.stats().probes * 10, b.stats().probes);
}

TEST(PortAllocator, FullParityHintFallsBackAndForgets)
{
    steering s(1);
    allocator a(range(40000, 40999), s, 0, test_key);
    recorder r;
    auto take = [&] {
        const int p = a.alloc(local_a, server, http, r);
        if (p >= 0) {
            r.busy.insert(tuple4{local_a, server, rte_cpu_to_be_16(uint16_t(p)), http});
        }
        return p;
    };
    auto release = [&](int p) { r.busy.erase(tuple4{local_a, server, rte_cpu_to_be_16(uint16_t(p)), http}); };
    for (int k = 0; k < 500; k++) {
        ASSERT_EQ(take() % 2, 0);
    }
    // Even ports full: this call scans all of them, then finds an odd one.
    uint64_t probes = a.stats().probes;
    ASSERT_EQ(take() % 2, 1);
    EXPECT_EQ(a.stats().probes - probes, 501u);
    // The next call goes to the odd ports first.
    probes = a.stats().probes;
    ASSERT_EQ(take() % 2, 1);
    EXPECT_LT(a.stats().probes - probes, 20u);
    EXPECT_EQ(a.stats().parity_skips, 1u);
    // An even port frees up: passed over while odd ports remain...
    release(40000);
    for (int k = 2; k < 500; k++) {
        ASSERT_EQ(take() % 2, 1) << k;
    }
    // ... then found by the fallback, which forgets the hint.
    EXPECT_EQ(take(), 40000);
    release(40002);
    release(40001);
    EXPECT_EQ(take(), 40002); // low's parity first again, as Linux
    EXPECT_EQ(take(), 40001);
    EXPECT_EQ(take(), -EADDRNOTAVAIL);
}

TEST(PortAllocator, LinuxExactRescansTheFullParityEveryCall)
{
    steering s(1);
    config c = range(40000, 40999);
    c.remember_full_parity = false;
    allocator a(c, s, 0, test_key);
    recorder r;
    for (int k = 0; k < 502; k++) {
        const uint64_t probes = a.stats().probes;
        const int p = a.alloc(local_a, server, http, r);
        r.busy.insert(tuple4{local_a, server, rte_cpu_to_be_16(uint16_t(p)), http});
        if (k >= 500) {
            EXPECT_EQ(p % 2, 1);
            EXPECT_GT(a.stats().probes - probes, 500u);
        }
    }
}

TEST(PortAllocator, TupleStateNames)
{
    EXPECT_STREQ(to_string(tuple_state::free), "free");
    EXPECT_STREQ(to_string(tuple_state::busy), "busy");
    EXPECT_STREQ(to_string(tuple_state::time_wait_reusable), "time_wait_reusable");
}

} // namespace
} // namespace fg::port
