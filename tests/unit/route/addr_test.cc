// Address parsing and the interface address set (no EAL).
#include <gtest/gtest.h>

#include "base/tuple.hh"
#include "route/addr.hh"

namespace {

using fg::ipv4;
using fg::route::addr_range;
using fg::route::iface_addrs;
using fg::route::parse_addr;
using fg::route::parse_ipv4;

rte_be32_t be(uint32_t a) { return rte_cpu_to_be_32(a); }

addr_range must_parse(const char* s)
{
    addr_range r;
    std::string err;
    EXPECT_TRUE(parse_addr(s, r, err)) << s << ": " << err;
    return r;
}

// The error message for a rejected input (fails the test if it was accepted).
std::string parse_error(const char* s)
{
    addr_range r;
    std::string err;
    EXPECT_FALSE(parse_addr(s, r, err)) << s << " was accepted";
    EXPECT_FALSE(err.empty()) << s;
    return err;
}

TEST(ParseIpv4, GoodAndBad)
{
    uint32_t a = 0;
    std::string err;
    ASSERT_TRUE(parse_ipv4("198.18.0.10", a, err)) << err;
    EXPECT_EQ(a, ipv4(198, 18, 0, 10));
    ASSERT_TRUE(parse_ipv4("0.0.0.0", a, err));
    EXPECT_EQ(a, 0u);
    ASSERT_TRUE(parse_ipv4("255.255.255.255", a, err));
    EXPECT_EQ(a, 0xffffffffu);
    for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "1..2.3", "256.1.1.1", "1.2.3.-4", "a.b.c.d", " 1.2.3.4",
                            "1.2.3.4 ", "01.2.3.4", "1.2.3.4x", "99999999999.1.1.1"}) {
        err.clear();
        EXPECT_FALSE(parse_ipv4(bad, a, err)) << bad;
        EXPECT_NE(err.find("bad IPv4 address"), std::string::npos) << bad << ": " << err;
    }
    EXPECT_FALSE(parse_ipv4("1.2.300.4", a, err));
    EXPECT_NE(err.find("'300'"), std::string::npos) << err;
}

TEST(ParseAddr, SingleAddress)
{
    const addr_range r = must_parse("198.18.0.10/16");
    EXPECT_EQ(r.first, ipv4(198, 18, 0, 10));
    EXPECT_EQ(r.last, ipv4(198, 18, 0, 10));
    EXPECT_EQ(r.plen, 16);
    EXPECT_EQ(r.prefix(), ipv4(198, 18, 0, 0));
    EXPECT_EQ(r.broadcast(), ipv4(198, 18, 255, 255));
    EXPECT_EQ(r.size(), 1u);
}

TEST(ParseAddr, Range)
{
    const addr_range r = must_parse("198.18.1.0-198.18.1.255/16");
    EXPECT_EQ(r.first, ipv4(198, 18, 1, 0));
    EXPECT_EQ(r.last, ipv4(198, 18, 1, 255));
    EXPECT_EQ(r.size(), 256u);
    EXPECT_EQ(fg::route::format_addr(r), "198.18.1.0-198.18.1.255/16");
    EXPECT_EQ(fg::route::format_addr(must_parse("10.1.2.3/8")), "10.1.2.3/8");
}

TEST(ParseAddr, PointToPointPrefixesHaveNoNetworkOrBroadcast)
{
    // RFC 3021: both addresses of a /31 are hosts; a /32 is just itself.
    const addr_range r = must_parse("10.0.0.0-10.0.0.1/31");
    EXPECT_EQ(r.size(), 2u);
    EXPECT_EQ(r.broadcast(), 0u);
    EXPECT_EQ(must_parse("10.0.0.255/32").broadcast(), 0u);
}

TEST(ParseAddr, ErrorsSayWhatIsWrong)
{
    EXPECT_NE(parse_error("").find("empty"), std::string::npos);
    EXPECT_NE(parse_error("198.18.0.10").find("no /prefix-length"), std::string::npos);
    for (const char* s : {"198.18.0.10/33", "198.18.0.10/0", "198.18.0.10/", "198.18.0.10/x", "198.18.0.10/016",
                          "198.18.0.10/16/2"}) {
        EXPECT_NE(parse_error(s).find("bad prefix length"), std::string::npos) << s;
    }
    EXPECT_NE(parse_error("198.18.0.256/16").find("bad IPv4 address"), std::string::npos);
    EXPECT_NE(parse_error("198.18.0.10-198.18.0/16").find("bad IPv4 address"), std::string::npos);
    EXPECT_NE(parse_error("198.18.0.10-/16").find("bad IPv4 address"), std::string::npos);
    EXPECT_NE(parse_error("198.18.0.20-198.18.0.10/16").find("before it starts"), std::string::npos);
    EXPECT_NE(parse_error("198.18.0.10-198.19.0.10/16").find("leaves its subnet 198.18.0.0/16"), std::string::npos);
    EXPECT_NE(parse_error("198.18.0.0/16").find("network address of 198.18.0.0/16"), std::string::npos);
    EXPECT_NE(parse_error("198.18.255.255/16").find("broadcast address of 198.18.0.0/16"), std::string::npos);
    EXPECT_NE(parse_error("198.18.255.0-198.18.255.255/16").find("broadcast address"), std::string::npos);
    EXPECT_NE(parse_error("198.18.0.0-198.18.0.5/16").find("network address"), std::string::npos);
    EXPECT_NE(parse_error("127.0.0.1/8").find("loopback"), std::string::npos);
    EXPECT_NE(parse_error("0.1.2.3/8").find("this network"), std::string::npos);
    EXPECT_NE(parse_error("224.0.0.5/24").find("multicast"), std::string::npos);
    EXPECT_NE(parse_error("240.0.0.5/24").find("reserved"), std::string::npos);
    // The message quotes the input so a user sees which --ip was wrong.
    EXPECT_NE(parse_error("198.18.0.10/40").find("'198.18.0.10/40'"), std::string::npos);
}

iface_addrs::entry entry_of(const iface_addrs& a, uint32_t host)
{
    const iface_addrs::entry* e = a.find(host);
    EXPECT_NE(e, nullptr);
    return e ? *e : iface_addrs::entry{};
}

TEST(IfaceAddrs, IsLocalExactlyTheConfiguredRanges)
{
    iface_addrs a;
    std::string err;
    ASSERT_TRUE(a.add(0, must_parse("198.18.0.10-198.18.0.20/16"), err)) << err;
    ASSERT_TRUE(a.add(0, must_parse("198.18.3.255/16"), err)) << err;
    ASSERT_TRUE(a.add(1, must_parse("10.9.8.7/24"), err)) << err;
    for (uint32_t x = ipv4(198, 18, 0, 0); x < ipv4(198, 18, 1, 0); x++) {
        const bool want = x >= ipv4(198, 18, 0, 10) && x <= ipv4(198, 18, 0, 20);
        EXPECT_EQ(a.is_local(be(x)), want) << fg::route::format_ipv4(x);
    }
    EXPECT_TRUE(a.is_local(be(ipv4(198, 18, 3, 255))));
    EXPECT_FALSE(a.is_local(be(ipv4(198, 18, 3, 254))));
    EXPECT_FALSE(a.is_local(be(ipv4(198, 18, 4, 0))));
    EXPECT_TRUE(a.is_local(be(ipv4(10, 9, 8, 7))));
    EXPECT_FALSE(a.is_local(be(ipv4(10, 9, 8, 6))));
    EXPECT_FALSE(a.is_local(be(ipv4(7, 9, 8, 7))));       // same low 16 bits, other /16
    EXPECT_FALSE(a.is_local(be(ipv4(255, 255, 255, 255))));
    EXPECT_FALSE(a.is_local(0));
    EXPECT_EQ(a.n_local(), 13u);

    EXPECT_EQ(a.port_of(be(ipv4(198, 18, 0, 15))), 0);
    EXPECT_EQ(a.port_of(be(ipv4(10, 9, 8, 7))), 1);
    EXPECT_EQ(a.port_of(be(ipv4(198, 18, 0, 21))), -1);
    EXPECT_EQ(a.port_of(be(ipv4(1, 1, 1, 1))), -1);
    EXPECT_EQ(entry_of(a, ipv4(198, 18, 0, 20)).range.first, ipv4(198, 18, 0, 10));
}

TEST(IfaceAddrs, IsBroadcastForEverySubnetAndLimited)
{
    iface_addrs a;
    std::string err;
    ASSERT_TRUE(a.add(0, must_parse("198.18.0.10-198.18.3.255/16"), err)) << err;
    ASSERT_TRUE(a.add(1, must_parse("10.1.2.3/8"), err)) << err;
    ASSERT_TRUE(a.add(1, must_parse("192.0.2.1/24"), err)) << err;
    ASSERT_TRUE(a.add(2, must_parse("203.0.113.0-203.0.113.1/31"), err)) << err;
    EXPECT_TRUE(a.is_broadcast(be(ipv4(198, 18, 255, 255))));
    EXPECT_TRUE(a.is_broadcast(be(ipv4(10, 255, 255, 255))));
    EXPECT_TRUE(a.is_broadcast(be(ipv4(192, 0, 2, 255))));
    EXPECT_TRUE(a.is_broadcast(be(0xffffffffu)));
    EXPECT_FALSE(a.is_broadcast(be(ipv4(198, 18, 3, 255)))); // a local address that ends in .255
    EXPECT_FALSE(a.is_broadcast(be(ipv4(198, 19, 255, 255))));
    EXPECT_FALSE(a.is_broadcast(be(ipv4(192, 0, 3, 255))));
    EXPECT_FALSE(a.is_broadcast(be(ipv4(203, 0, 113, 1)))); // /31: no broadcast
    EXPECT_FALSE(a.is_broadcast(be(ipv4(203, 0, 113, 255))));
    EXPECT_FALSE(a.is_local(be(ipv4(198, 18, 255, 255))));
}

TEST(IfaceAddrs, MoreThan65536Addresses)
{
    iface_addrs a;
    std::string err;
    // 10.0.0.1 .. 10.1.0.10: 65546 addresses across two /16 blocks.
    ASSERT_TRUE(a.add(0, must_parse("10.0.0.1-10.1.0.10/8"), err)) << err;
    EXPECT_EQ(a.n_local(), 65546u);
    uint64_t n = 0;
    for (uint32_t x = ipv4(10, 0, 0, 0); x <= ipv4(10, 1, 0, 20); x++) {
        n += a.is_local(be(x));
    }
    EXPECT_EQ(n, 65546u);
    EXPECT_FALSE(a.is_local(be(ipv4(10, 0, 0, 0))));
    EXPECT_FALSE(a.is_local(be(ipv4(10, 1, 0, 11))));
    EXPECT_TRUE(a.is_broadcast(be(ipv4(10, 255, 255, 255))));
}

TEST(IfaceAddrs, RejectsOverlapsAndSharedSubnets)
{
    iface_addrs a;
    std::string err;
    ASSERT_TRUE(a.add(0, must_parse("198.18.0.10-198.18.0.20/16"), err)) << err;
    EXPECT_FALSE(a.add(0, must_parse("198.18.0.20-198.18.0.30/16"), err));
    EXPECT_NE(err.find("overlap"), std::string::npos) << err;
    EXPECT_FALSE(a.add(1, must_parse("198.18.7.1/24"), err)); // inside port 0's /16
    EXPECT_NE(err.find("a subnet belongs to one port"), std::string::npos) << err;
    EXPECT_FALSE(a.add(1, must_parse("198.19.0.1/15"), err)); // contains port 0's /16
    EXPECT_FALSE(a.add(iface_addrs::max_ports, must_parse("192.0.2.1/24"), err));
    EXPECT_NE(err.find("out of range"), std::string::npos) << err;
    // Same port, a second range in the same subnet, and a nested subnet: fine.
    EXPECT_TRUE(a.add(0, must_parse("198.18.1.0-198.18.1.255/16"), err)) << err;
    EXPECT_TRUE(a.add(0, must_parse("198.18.9.1/24"), err)) << err;
    EXPECT_EQ(a.entries().size(), 3u);
    // Failed adds left no bits behind.
    EXPECT_FALSE(a.is_local(be(ipv4(198, 18, 0, 25))));
    EXPECT_FALSE(a.is_local(be(ipv4(198, 18, 7, 1))));
}

TEST(IfaceAddrs, AddChecksRangesItDidNotParse)
{
    iface_addrs a;
    std::string err;
    EXPECT_FALSE(a.add(0, addr_range{fg::ipv4(127, 0, 0, 1), fg::ipv4(127, 0, 0, 1), 8}, err));
    EXPECT_NE(err.find("loopback"), std::string::npos) << err;
    EXPECT_FALSE(a.add(0, addr_range{fg::ipv4(10, 0, 0, 9), fg::ipv4(10, 0, 0, 1), 8}, err));
    EXPECT_FALSE(a.add(0, addr_range{fg::ipv4(10, 0, 0, 0), fg::ipv4(10, 0, 0, 1), 8}, err));
    EXPECT_FALSE(a.add(0, addr_range{fg::ipv4(10, 0, 0, 1), fg::ipv4(10, 0, 0, 1), 0}, err));
    EXPECT_FALSE(a.add(0, addr_range{fg::ipv4(10, 0, 0, 1), fg::ipv4(10, 0, 0, 1), 33}, err));
    EXPECT_TRUE(a.entries().empty());
    EXPECT_FALSE(a.is_local(be(fg::ipv4(127, 0, 0, 1))));
}

// Two ports' subnets inside one /16: port_of() cannot take the block's
// single port and must search the ranges.
TEST(IfaceAddrs, PortOfWhenPortsShareASlash16)
{
    iface_addrs a;
    std::string err;
    ASSERT_TRUE(a.add(0, must_parse("198.18.0.10-198.18.0.20/24"), err)) << err;
    ASSERT_TRUE(a.add(1, must_parse("198.18.1.10-198.18.1.20/24"), err)) << err;
    ASSERT_TRUE(a.add(2, must_parse("192.0.2.10/24"), err)) << err;
    EXPECT_EQ(a.port_of(be(ipv4(198, 18, 0, 10))), 0);
    EXPECT_EQ(a.port_of(be(ipv4(198, 18, 0, 20))), 0);
    EXPECT_EQ(a.port_of(be(ipv4(198, 18, 1, 10))), 1);
    EXPECT_EQ(a.port_of(be(ipv4(198, 18, 1, 20))), 1);
    EXPECT_EQ(a.port_of(be(ipv4(198, 18, 1, 21))), -1);
    EXPECT_EQ(a.port_of(be(ipv4(192, 0, 2, 10))), 2);
    EXPECT_EQ(a.kind(be(ipv4(198, 18, 1, 255))), iface_addrs::broadcast_bit);
    EXPECT_EQ(a.kind(be(ipv4(198, 18, 1, 15))), iface_addrs::local_bit);
    EXPECT_EQ(a.kind(be(ipv4(198, 18, 2, 15))), 0u);
}

TEST(IfaceAddrs, FindSubnetPrefersLongestPrefixOnThePort)
{
    iface_addrs a;
    std::string err;
    ASSERT_TRUE(a.add(0, must_parse("198.18.0.10/16"), err)) << err;
    ASSERT_TRUE(a.add(0, must_parse("198.18.5.10/24"), err)) << err;
    ASSERT_TRUE(a.add(1, must_parse("192.0.2.10/24"), err)) << err;
    const iface_addrs::entry* e = a.find_subnet(0, ipv4(198, 18, 5, 1));
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->range.first, ipv4(198, 18, 5, 10));
    e = a.find_subnet(0, ipv4(198, 18, 6, 1));
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->range.first, ipv4(198, 18, 0, 10));
    EXPECT_EQ(a.find_subnet(1, ipv4(198, 18, 6, 1)), nullptr); // never another port's subnet
    EXPECT_EQ(a.find_subnet(0, ipv4(192, 0, 2, 1)), nullptr);
}

TEST(IfaceAddrs, Mtu)
{
    iface_addrs a;
    std::string err;
    EXPECT_EQ(a.mtu(3), iface_addrs::default_mtu);
    EXPECT_TRUE(a.set_mtu(3, 9000, err)) << err;
    EXPECT_EQ(a.mtu(3), 9000);
    EXPECT_FALSE(a.set_mtu(3, 67, err));
    EXPECT_FALSE(a.set_mtu(3, 10000, err));
    EXPECT_FALSE(a.set_mtu(iface_addrs::max_ports, 1500, err));
    EXPECT_EQ(a.mtu(3), 9000);
}

} // namespace
