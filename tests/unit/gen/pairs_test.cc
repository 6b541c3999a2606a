// gen::pair_space: every owned (address, port) pair exactly once, ownership
// under the steering function, reserved ports, FIFO recycling with fresh
// pairs first, immediate exhaustion. No EAL.
#include "gen/pairs.hh"

#include <map>
#include <set>
#include <utility>

#include <gtest/gtest.h>

#include "base/tuple.hh"

namespace fg::gen {
namespace {

constexpr uint32_t first = ipv4(198, 18, 1, 0);
const rte_be32_t raddr = rte_cpu_to_be_32(ipv4(198, 18, 0, 2));
const rte_be16_t rport = rte_cpu_to_be_16(80);

std::vector<rte_be32_t> addrs(uint32_t n)
{
    std::vector<rte_be32_t> v;
    for (uint32_t i = 0; i < n; i++) {
        v.push_back(rte_cpu_to_be_32(first + i));
    }
    return v;
}

using pair_t = std::pair<uint32_t, uint16_t>;

std::vector<pair_t> drain(pair_space& s)
{
    std::vector<pair_t> v;
    uint32_t a;
    uint16_t p;
    while (s.take(a, p)) {
        v.push_back({a, p});
    }
    return v;
}

TEST(pair_space, OneOwnerHandsOutEveryPairOnceRotatingAddresses)
{
    const steering st(1);
    pair_space s;
    std::string err;
    ASSERT_TRUE(s.init(addrs(3), 40000, 40009, {}, raddr, rport, st, 0, 1000, err)) << err;
    const std::vector<pair_t> v = drain(s);
    ASSERT_EQ(v.size(), 30u);
    EXPECT_EQ(std::set<pair_t>(v.begin(), v.end()).size(), 30u);
    // Port-major, every address per port: consecutive connections rotate addresses.
    EXPECT_EQ(v[0], pair_t(0, 40000));
    EXPECT_EQ(v[1], pair_t(1, 40000));
    EXPECT_EQ(v[2], pair_t(2, 40000));
    EXPECT_EQ(v[3], pair_t(0, 40001));
    EXPECT_EQ(s.out(), 30u);
    EXPECT_TRUE(s.cursor_done());
    uint32_t a;
    uint16_t p;
    EXPECT_FALSE(s.take(a, p)); // exhausted: known at once
}

TEST(pair_space, TwoOwnersSplitThePairsByTheSteeringFunction)
{
    const steering st(2);
    const std::vector<rte_be32_t> la = addrs(16);
    std::map<pair_t, int> seen;
    for (uint16_t me = 0; me < 2; me++) {
        pair_space s;
        std::string err;
        ASSERT_TRUE(s.init(la, 32768, 33767, {}, raddr, rport, st, me, 1000, err)) << err;
        for (const pair_t& x : drain(s)) {
            const tuple4 t{la[x.first], raddr, rte_cpu_to_be_16(x.second), rport};
            EXPECT_EQ(st.owner(t), me); // the SYN-ACK comes back to the lcore that took the pair
            EXPECT_EQ(seen.count(x), 0u);
            seen[x] = me;
        }
    }
    EXPECT_EQ(seen.size(), 16u * 1000u); // together: every pair, each on one lcore
}

TEST(pair_space, ReservedPortsAreNeverHandedOut)
{
    const steering st(1);
    pair_space s;
    std::string err;
    ASSERT_TRUE(s.init(addrs(2), 40000, 40004, {40001, 40003, 50000}, raddr, rport, st, 0, 100, err)) << err;
    std::set<uint16_t> ports;
    for (const pair_t& x : drain(s)) {
        ports.insert(x.second);
    }
    EXPECT_EQ(ports, (std::set<uint16_t>{40000, 40002, 40004}));
}

TEST(pair_space, GivenBackPairsComeBackOldestFirstAfterTheFreshOnes)
{
    const steering st(1);
    pair_space s;
    std::string err;
    ASSERT_TRUE(s.init(addrs(1), 40000, 40007, {}, raddr, rport, st, 0, 100, err)) << err;
    EXPECT_EQ(s.ring_capacity(), 8u); // never more than the pairs there are
    uint32_t a;
    uint16_t p;
    ASSERT_TRUE(s.take(a, p));
    EXPECT_EQ(p, 40000);
    ASSERT_TRUE(s.take(a, p));
    EXPECT_EQ(p, 40001);
    s.give_back(0, 40001);
    s.give_back(0, 40000);
    EXPECT_EQ(s.out(), 0u);
    EXPECT_EQ(s.recycled(), 2u);
    // The ring is less than half full: fresh pairs first (latest reuse of a 4-tuple).
    ASSERT_TRUE(s.take(a, p));
    EXPECT_EQ(p, 40002);
    // Fill the ring to half: then it is drained first, oldest first.
    for (uint16_t q = 40003; q <= 40004; q++) {
        ASSERT_TRUE(s.take(a, p));
        EXPECT_EQ(p, q);
    }
    s.give_back(0, 40003);
    s.give_back(0, 40004);
    EXPECT_EQ(s.recycled(), 4u); // half of 8
    ASSERT_TRUE(s.take(a, p));
    EXPECT_EQ(p, 40001);
    ASSERT_TRUE(s.take(a, p));
    EXPECT_EQ(p, 40005); // below half again: fresh
    // Exhaust the fresh ones, then only the ring is left, in FIFO order.
    ASSERT_TRUE(s.take(a, p));
    EXPECT_EQ(p, 40006);
    ASSERT_TRUE(s.take(a, p));
    EXPECT_EQ(p, 40007);
    std::vector<uint16_t> rest;
    while (s.take(a, p)) {
        rest.push_back(p);
    }
    EXPECT_EQ(rest, (std::vector<uint16_t>{40000, 40003, 40004}));
    EXPECT_EQ(s.out(), 8u);
}

TEST(pair_space, LongChurnNeverLosesOrDuplicatesAPair)
{
    const steering st(2);
    const std::vector<rte_be32_t> la = addrs(4);
    pair_space s;
    std::string err;
    ASSERT_TRUE(s.init(la, 40000, 40099, {}, raddr, rport, st, 1, 50, err)) << err;
    std::vector<pair_t> held;
    std::set<pair_t> out;
    uint64_t rng = 88172645463325252ull;
    for (int i = 0; i < 200000; i++) {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        uint32_t a;
        uint16_t p;
        if ((rng & 1) != 0 && s.take(a, p)) {
            ASSERT_TRUE(out.insert({a, p}).second) << "handed out twice";
            held.push_back({a, p});
        } else if (!held.empty()) {
            const std::size_t k = std::size_t(rng >> 8) % held.size();
            s.give_back(held[k].first, held[k].second);
            out.erase(held[k]);
            held[k] = held.back();
            held.pop_back();
        }
        ASSERT_EQ(s.out(), held.size());
    }
    for (const pair_t& x : held) {
        s.give_back(x.first, x.second);
    }
    // Every owned pair is available again, exactly once.
    const std::vector<pair_t> all = drain(s);
    EXPECT_EQ(std::set<pair_t>(all.begin(), all.end()).size(), all.size());
    for (const pair_t& x : all) {
        EXPECT_EQ(st.owner(tuple4{la[x.first], raddr, rte_cpu_to_be_16(x.second), rport}), 1);
    }
}

TEST(pair_space, AddressIndexAndBadArguments)
{
    const steering st(2);
    pair_space s;
    std::string err;
    std::vector<rte_be32_t> la = {rte_cpu_to_be_32(first + 9), rte_cpu_to_be_32(first + 2),
                                  rte_cpu_to_be_32(first + 5)};
    ASSERT_TRUE(s.init(la, 1000, 2000, {}, raddr, rport, st, 0, 10, err)) << err;
    EXPECT_EQ(s.addr_index(la[0]), 0);
    EXPECT_EQ(s.addr_index(la[1]), 1);
    EXPECT_EQ(s.addr_index(la[2]), 2);
    EXPECT_EQ(s.addr_index(rte_cpu_to_be_32(first + 3)), -1);

    pair_space b;
    EXPECT_FALSE(b.init({}, 1000, 2000, {}, raddr, rport, st, 0, 10, err));
    EXPECT_FALSE(b.init(la, 2000, 1000, {}, raddr, rport, st, 0, 10, err));
    EXPECT_FALSE(b.init(la, 1000, 2000, {}, raddr, rport, st, 2, 10, err)); // lcore 2 of 2
    EXPECT_FALSE(b.init({la[0], la[0]}, 1000, 2000, {}, raddr, rport, st, 0, 10, err));
    EXPECT_NE(err.find("twice"), std::string::npos);
}

} // namespace
} // namespace fg::gen
