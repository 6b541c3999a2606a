// Routes in rte_lpm and source-address selection (needs EAL: eal_main.cc).
#include <gtest/gtest.h>

#include <random>

#include "base/tuple.hh"
#include "route/route.hh"
#include "route/route_cache.hh"

namespace {

using fg::ipv4;
using fg::route::addr_range;
using fg::route::iface_addrs;
using fg::route::route_result;
using fg::route::route_status;
using fg::route::route_table;

rte_be32_t be(uint32_t a) { return rte_cpu_to_be_32(a); }
uint32_t host(rte_be32_t a) { return rte_be_to_cpu_32(a); }

void add(iface_addrs& a, uint16_t port, const char* s)
{
    addr_range r;
    std::string err;
    ASSERT_TRUE(fg::route::parse_addr(s, r, err)) << err;
    ASSERT_TRUE(a.add(port, r, err)) << err;
}

// Port 0: 198.18.0.10-198.18.0.20/16 and 192.0.2.10/24; port 1 (MTU 9000):
// 203.0.113.5/24. Routes: 10/8 via 192.0.2.1, 10.1/16 via 203.0.113.1,
// 10.1.2.99/32 via 192.0.2.2, default via 198.18.0.1.
class RouteTest : public testing::Test {
protected:
    void SetUp() override
    {
        add(_addrs, 0, "198.18.0.10-198.18.0.20/16");
        add(_addrs, 0, "192.0.2.10/24");
        add(_addrs, 1, "203.0.113.5/24");
        std::string err;
        ASSERT_TRUE(_addrs.set_mtu(1, 9000, err)) << err;
        _rt = route_table::create(_addrs, err);
        ASSERT_NE(_rt, nullptr) << err;
    }
    void add_gateway_routes()
    {
        std::string err;
        ASSERT_TRUE(_rt->add_route(ipv4(10, 0, 0, 0), 8, ipv4(192, 0, 2, 1), err)) << err;
        ASSERT_TRUE(_rt->add_route(ipv4(10, 1, 0, 0), 16, ipv4(203, 0, 113, 1), err)) << err;
        ASSERT_TRUE(_rt->add_route(ipv4(10, 1, 2, 99), 32, ipv4(192, 0, 2, 2), err)) << err;
        ASSERT_TRUE(_rt->add_default(ipv4(198, 18, 0, 1), err)) << err;
    }
    route_result lookup(uint32_t dst, uint32_t bound = 0) const { return _rt->lookup(be(dst), bound ? be(bound) : 0); }

    iface_addrs _addrs;
    std::unique_ptr<route_table> _rt;
};

void expect_route(const route_result& r, uint32_t next_hop, uint32_t src, uint16_t port, uint16_t mtu)
{
    ASSERT_EQ(r.status, route_status::ok) << fg::route::route_strerror(r.status);
    EXPECT_EQ(host(r.next_hop), next_hop) << fg::route::format_ipv4(host(r.next_hop));
    EXPECT_EQ(host(r.src), src) << fg::route::format_ipv4(host(r.src));
    EXPECT_EQ(r.port, port);
    EXPECT_EQ(r.mtu, mtu);
}

TEST_F(RouteTest, ConnectedRoutesComeFromTheInterfaceSubnets)
{
    // Next hop is the destination itself; source is in the destination's subnet.
    expect_route(lookup(ipv4(198, 18, 5, 5)), ipv4(198, 18, 5, 5), ipv4(198, 18, 0, 10), 0, 1500);
    expect_route(lookup(ipv4(192, 0, 2, 77)), ipv4(192, 0, 2, 77), ipv4(192, 0, 2, 10), 0, 1500);
    expect_route(lookup(ipv4(203, 0, 113, 9)), ipv4(203, 0, 113, 9), ipv4(203, 0, 113, 5), 1, 9000);
    EXPECT_EQ(_rt->routes().size(), 3u);
}

TEST_F(RouteTest, NoRouteIsENETUNREACH)
{
    const route_result r = lookup(ipv4(8, 8, 8, 8));
    EXPECT_EQ(r.status, route_status::no_route);
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(fg::route::route_errno(r.status), ENETUNREACH);
    EXPECT_STREQ(fg::route::route_status_name(r.status), "no_route");
    EXPECT_NE(std::string(fg::route::route_strerror(r.status)).find("no route"), std::string::npos);
}

TEST_F(RouteTest, GatewayRoutesAndTheSourceInTheGatewaysSubnet)
{
    add_gateway_routes();
    // 10/8 leaves port 0 via 192.0.2.1: the source is port 0's address in
    // 192.0.2.0/24, not the port's lowest address 198.18.0.10.
    expect_route(lookup(ipv4(10, 2, 3, 4)), ipv4(192, 0, 2, 1), ipv4(192, 0, 2, 10), 0, 1500);
}

TEST_F(RouteTest, LongestPrefixWins)
{
    add_gateway_routes();
    expect_route(lookup(ipv4(10, 1, 2, 3)), ipv4(203, 0, 113, 1), ipv4(203, 0, 113, 5), 1, 9000);  // /16
    expect_route(lookup(ipv4(10, 1, 2, 99)), ipv4(192, 0, 2, 2), ipv4(192, 0, 2, 10), 0, 1500);    // /32
    expect_route(lookup(ipv4(10, 1, 2, 100)), ipv4(203, 0, 113, 1), ipv4(203, 0, 113, 5), 1, 9000); // /16
    expect_route(lookup(ipv4(10, 2, 0, 1)), ipv4(192, 0, 2, 1), ipv4(192, 0, 2, 10), 0, 1500);     // /8
    // Connected /16 beats the default.
    expect_route(lookup(ipv4(198, 18, 200, 1)), ipv4(198, 18, 200, 1), ipv4(198, 18, 0, 10), 0, 1500);
}

TEST_F(RouteTest, DefaultRouteCatchesTheRest)
{
    add_gateway_routes();
    expect_route(lookup(ipv4(8, 8, 8, 8)), ipv4(198, 18, 0, 1), ipv4(198, 18, 0, 10), 0, 1500);
    expect_route(lookup(ipv4(223, 255, 255, 254)), ipv4(198, 18, 0, 1), ipv4(198, 18, 0, 10), 0, 1500);
    expect_route(lookup(ipv4(1, 0, 0, 0)), ipv4(198, 18, 0, 1), ipv4(198, 18, 0, 10), 0, 1500);
}

TEST_F(RouteTest, NonUnicastAndLocalDestinationsAreRefused)
{
    add_gateway_routes(); // even with a default route
    for (uint32_t d : {0u, ipv4(0, 1, 2, 3), ipv4(127, 0, 0, 1), ipv4(224, 0, 0, 1), ipv4(240, 0, 0, 1),
                       0xffffffffu, ipv4(198, 18, 255, 255), ipv4(192, 0, 2, 255)}) {
        const route_result r = lookup(d);
        EXPECT_EQ(r.status, route_status::bad_destination) << fg::route::format_ipv4(d);
        EXPECT_EQ(fg::route::route_errno(r.status), ENETUNREACH);
    }
    for (uint32_t d : {ipv4(198, 18, 0, 10), ipv4(198, 18, 0, 20), ipv4(203, 0, 113, 5)}) {
        EXPECT_EQ(lookup(d).status, route_status::dst_is_local) << fg::route::format_ipv4(d);
    }
}

TEST_F(RouteTest, BoundSourceIsHonouredOnTheEgressPort)
{
    add_gateway_routes();
    expect_route(lookup(ipv4(198, 18, 5, 5), ipv4(198, 18, 0, 17)), ipv4(198, 18, 5, 5), ipv4(198, 18, 0, 17), 0,
                 1500);
    expect_route(lookup(ipv4(8, 8, 8, 8), ipv4(198, 18, 0, 20)), ipv4(198, 18, 0, 1), ipv4(198, 18, 0, 20), 0, 1500);
    // Another subnet of the same port is still ours on the egress port.
    expect_route(lookup(ipv4(198, 18, 5, 5), ipv4(192, 0, 2, 10)), ipv4(198, 18, 5, 5), ipv4(192, 0, 2, 10), 0, 1500);
}

TEST_F(RouteTest, BoundSourceNotLocalIsAnError)
{
    add_gateway_routes();
    for (uint32_t s : {ipv4(198, 18, 0, 21), ipv4(198, 18, 0, 9), ipv4(127, 0, 0, 1), ipv4(8, 8, 8, 8)}) {
        const route_result r = lookup(ipv4(198, 18, 5, 5), s);
        EXPECT_EQ(r.status, route_status::src_not_local) << fg::route::format_ipv4(s);
        EXPECT_EQ(fg::route::route_errno(r.status), EADDRNOTAVAIL);
    }
}

TEST_F(RouteTest, BoundSourceOfAnotherPortIsAnError)
{
    add_gateway_routes();
    route_result r = lookup(ipv4(198, 18, 5, 5), ipv4(203, 0, 113, 5)); // leaves port 0
    EXPECT_EQ(r.status, route_status::src_wrong_port);
    EXPECT_EQ(fg::route::route_errno(r.status), EADDRNOTAVAIL);
    r = lookup(ipv4(10, 1, 0, 1), ipv4(198, 18, 0, 10)); // leaves port 1
    EXPECT_EQ(r.status, route_status::src_wrong_port);
}

// Whatever the destination, a picked source is ours, on the egress port, and
// in the next hop's subnet.
TEST_F(RouteTest, PickedSourceIsAlwaysOnTheEgressPortInTheNextHopsSubnet)
{
    add_gateway_routes();
    std::mt19937 rng(42);
    int ok = 0;
    for (int i = 0; i < 200000; i++) {
        const uint32_t d = i < 100000 ? uint32_t(rng()) : (ipv4(10, 0, 0, 0) | (rng() & 0x01ffffff));
        const route_result r = lookup(d);
        if (!r.ok()) {
            continue;
        }
        ok++;
        ASSERT_TRUE(_addrs.is_local(r.src)) << fg::route::format_ipv4(d);
        ASSERT_EQ(_addrs.port_of(r.src), r.port) << fg::route::format_ipv4(d);
        const iface_addrs::entry* e = _addrs.find(host(r.src));
        ASSERT_NE(e, nullptr);
        ASSERT_EQ(host(r.next_hop) & e->range.mask(), e->range.prefix()) << fg::route::format_ipv4(d);
        ASSERT_NE(host(r.src) >> 24, 127u);
    }
    EXPECT_GT(ok, 100000);
}

// The per-lcore memo gives exactly what the table gives, for every kind of
// answer (ok, no route, refused destinations, bad bound sources), through
// hits, misses and colliding keys that replace each other; failures are never
// kept (a slot that held a good route still answers it after a failed lookup
// of another key with its index).
TEST_F(RouteTest, RouteCacheAnswersAsTheTable)
{
    add_gateway_routes();
    fg::route::route_cache cache;
    std::mt19937 rng(7);
    // A small population, so keys repeat (hits) and share slots (replacements).
    std::vector<std::pair<uint32_t, uint32_t>> keys;
    const uint32_t srcs[] = {0, ipv4(198, 18, 0, 10), ipv4(198, 18, 0, 15), ipv4(192, 0, 2, 10),
                             ipv4(203, 0, 113, 5), ipv4(8, 8, 8, 8), ipv4(198, 18, 0, 9)};
    for (int i = 0; i < 2000; i++) {
        const uint32_t pick = rng() % 4;
        const uint32_t d = pick == 0 ? uint32_t(rng())
                         : pick == 1 ? (ipv4(10, 0, 0, 0) | (rng() & 0x01ffffff))
                         : pick == 2 ? (ipv4(198, 18, 0, 0) | (rng() & 0xffff))
                                     : ipv4(198, 18, 0, 12); // one of ours: refused
        keys.emplace_back(d, srcs[rng() % std::size(srcs)]);
    }
    int ok = 0;
    int failed = 0;
    for (int i = 0; i < 200000; i++) {
        const auto& [d, s] = keys[rng() % keys.size()];
        const route_result want = lookup(d, s);
        const route_result got = cache.lookup(*_rt, be(d), s ? be(s) : 0);
        ASSERT_EQ(got.status, want.status) << fg::route::format_ipv4(d);
        if (want.ok()) {
            ok++;
            ASSERT_EQ(got.next_hop, want.next_hop);
            ASSERT_EQ(got.src, want.src);
            ASSERT_EQ(got.port, want.port);
            ASSERT_EQ(got.mtu, want.mtu);
        } else {
            failed++;
        }
    }
    EXPECT_GT(ok, 50000);
    EXPECT_GT(failed, 20000);
    // Two keys in one slot: the later replaces the earlier; a failure does not.
    const rte_be32_t a = be(ipv4(198, 18, 1, 1));
    rte_be32_t b = 0;
    for (uint32_t x = 2; x < 65536 && b == 0; x++) {
        const rte_be32_t c = be(ipv4(198, 18, 0, 0) | x);
        if (c != a && fg::route::route_cache::index(c, 0) == fg::route::route_cache::index(a, 0)) {
            b = c;
        }
    }
    ASSERT_NE(b, 0u);
    rte_be32_t bad = 0; // a refused destination (martian) with the same slot
    for (uint32_t x = 0; x < (1u << 24) && bad == 0; x++) {
        const rte_be32_t c = be(ipv4(127, 0, 0, 0) | x);
        if (fg::route::route_cache::index(c, 0) == fg::route::route_cache::index(a, 0)) {
            bad = c;
        }
    }
    ASSERT_NE(bad, 0u);
    EXPECT_EQ(cache.lookup(*_rt, a, 0).next_hop, a);
    EXPECT_EQ(cache.lookup(*_rt, b, 0).next_hop, b);
    EXPECT_EQ(cache.lookup(*_rt, a, 0).next_hop, a);
    EXPECT_EQ(cache.lookup(*_rt, bad, 0).status, route_status::bad_destination);
    EXPECT_EQ(cache.lookup(*_rt, a, 0).next_hop, a);
    // One slot: every key collides. One destination with two bound sources
    // gets each its own answer (the key is both addresses); a failure in
    // between (a source of another port, a refused destination) is not kept.
    fg::route::basic_route_cache<1> one;
    const rte_be32_t d = be(ipv4(198, 18, 7, 7));
    const rte_be32_t s10 = be(ipv4(198, 18, 0, 10));
    const rte_be32_t s15 = be(ipv4(198, 18, 0, 15));
    EXPECT_EQ(one.lookup(*_rt, d, s10).src, s10);
    EXPECT_EQ(one.lookup(*_rt, d, s15).src, s15);
    EXPECT_EQ(one.lookup(*_rt, d, s10).src, s10);
    EXPECT_EQ(one.lookup(*_rt, d, be(ipv4(203, 0, 113, 5))).status, route_status::src_wrong_port);
    EXPECT_EQ(one.lookup(*_rt, d, be(ipv4(8, 8, 8, 8))).status, route_status::src_not_local);
    EXPECT_EQ(one.lookup(*_rt, d, 0).src, _rt->lookup(d, 0).src);
    EXPECT_EQ(one.lookup(*_rt, be(ipv4(10, 1, 2, 99)), 0).next_hop, be(ipv4(192, 0, 2, 2)));
    EXPECT_EQ(one.lookup(*_rt, be(ipv4(10, 1, 2, 99)), s10).status, route_status::ok);
    EXPECT_EQ(one.lookup(*_rt, be(ipv4(10, 1, 3, 1)), s10).status, route_status::src_wrong_port); // via port 1
    EXPECT_EQ(one.lookup(*_rt, be(ipv4(10, 1, 2, 99)), s10).next_hop, be(ipv4(192, 0, 2, 2)));
}

TEST_F(RouteTest, RouteMtuOverride)
{
    std::string err;
    ASSERT_TRUE(_rt->add_route(ipv4(10, 3, 0, 0), 16, ipv4(192, 0, 2, 1), err, 1400)) << err;
    expect_route(lookup(ipv4(10, 3, 0, 1)), ipv4(192, 0, 2, 1), ipv4(192, 0, 2, 10), 0, 1400);
    EXPECT_FALSE(_rt->add_route(ipv4(10, 4, 0, 0), 16, ipv4(192, 0, 2, 1), err, 1501));
    EXPECT_NE(err.find("MTU"), std::string::npos) << err;
}

TEST_F(RouteTest, BadRoutesAreRejectedWithAMessage)
{
    std::string err;
    auto rejects = [&](uint32_t prefix, uint8_t plen, uint32_t gw, const char* want) {
        err.clear();
        EXPECT_FALSE(_rt->add_route(prefix, plen, gw, err)) << want;
        EXPECT_NE(err.find(want), std::string::npos) << err;
    };
    rejects(ipv4(10, 0, 0, 1), 8, ipv4(192, 0, 2, 1), "host bits set");
    rejects(ipv4(10, 0, 0, 0), 8, ipv4(8, 8, 4, 4), "not inside any configured subnet");
    rejects(ipv4(10, 0, 0, 0), 8, ipv4(198, 18, 0, 12), "one of our own addresses");
    rejects(ipv4(10, 0, 0, 0), 8, ipv4(192, 0, 2, 255), "not a unicast address");
    rejects(ipv4(10, 0, 0, 0), 8, ipv4(127, 0, 0, 1), "not a unicast address");
    rejects(ipv4(10, 0, 0, 0), 33, ipv4(192, 0, 2, 1), "above 32");
    rejects(ipv4(198, 18, 0, 0), 16, ipv4(192, 0, 2, 1), "already exists"); // the connected route
    ASSERT_TRUE(_rt->add_default(ipv4(198, 18, 0, 1), err)) << err;
    rejects(0, 0, ipv4(192, 0, 2, 1), "default route already exists");
    // Rejected routes changed nothing.
    expect_route(lookup(ipv4(10, 0, 0, 5)), ipv4(198, 18, 0, 1), ipv4(198, 18, 0, 10), 0, 1500);
    expect_route(lookup(ipv4(198, 18, 5, 5)), ipv4(198, 18, 5, 5), ipv4(198, 18, 0, 10), 0, 1500);
}

TEST(RouteTable, WithoutAddressesEverythingIsUnreachable)
{
    iface_addrs addrs;
    std::string err;
    auto rt = route_table::create(addrs, err);
    ASSERT_NE(rt, nullptr) << err;
    EXPECT_EQ(rt->lookup(be(ipv4(8, 8, 8, 8))).status, route_status::no_route);
    EXPECT_FALSE(rt->add_default(ipv4(192, 0, 2, 1), err));
    EXPECT_NE(err.find("not inside any configured subnet"), std::string::npos) << err;
}

TEST(RouteTable, SeveralRangesInOneSubnetMakeOneConnectedRoute)
{
    iface_addrs addrs;
    add(addrs, 0, "198.18.1.0-198.18.1.255/16");
    add(addrs, 0, "198.18.0.10-198.18.0.255/16");
    std::string err;
    auto rt = route_table::create(addrs, err);
    ASSERT_NE(rt, nullptr) << err;
    ASSERT_EQ(rt->routes().size(), 1u);
    EXPECT_EQ(rt->routes()[0].src, ipv4(198, 18, 0, 10)); // the lowest, whatever the order of --ip
    const route_result r = rt->lookup(be(ipv4(198, 18, 9, 9)));
    EXPECT_EQ(host(r.src), ipv4(198, 18, 0, 10));
}

} // namespace
