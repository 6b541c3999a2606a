// The IPv4 routing table: where a packet to `dst` leaves (port), to which
// neighbour it is handed (next hop), with which source address and MTU.
//
// Prefixes live in DPDK's rte_lpm (DIR-24-8: one load for prefixes up to /24,
// two beyond), whose 24-bit next-hop value indexes our own next-hop array.
// rte_lpm cannot hold a /0, so the default route sits beside it and is used
// when the LPM misses. rte_lpm allocates from EAL memory (its tbl24 alone is
// 64 MB), so one table is built at start-up after rte_eal_init() and shared,
// read-only, by every lcore: rte_lpm lookups are safe for concurrent readers
// as long as nobody writes, and routes do not change while lcores run.
//
// Connected routes come from the interface addresses (one per configured
// subnet); gateway routes and the default route (--gw) are added on top and
// must name a gateway inside a connected subnet (Linux: "Nexthop has invalid
// gateway"). Longest prefix wins, as always.
//
// Source-address selection (what Linux does in ip_route_connect /
// inet_select_addr). The preferred source of every route is fixed when the
// route is added, from the addresses of the port the route leaves by, in the
// subnet of the route's next hop: the destination's subnet for a connected
// route, the gateway's subnet for a gateway route. A caller's bound address is
// used as is, but only if it is ours and on the egress port. That is how we
// avoid the failure in the seed walkthrough (a connect() whose SYN left with
// source 127.0.0.1): with no bound address, tcp_v4_connect takes rt->rt_src,
// the route's preferred source, and a route that resolves through the loopback
// device (a local destination, a stray `local`/`src` route) hands back lo's
// address. Here there is no loopback device to resolve through: local,
// loopback, zero, multicast and broadcast destinations are refused with a
// status, 127/8 can never be configured as ours (parse_addr), the source is
// never "the first address of any interface" but one of the egress port's own,
// and a route whose gateway is not on-link cannot be added, so every route has
// a source in its next hop's subnet. An unroutable destination is a status
// (ENETUNREACH), never a crash.
#pragma once

#include <cerrno>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <rte_byteorder.h>

#include "route/addr.hh"

struct rte_lpm;

namespace fg::route {

// Result of a lookup: name, errno a socket API would return, message.
#define FG_FOREACH_ROUTE_STATUS(X)                                                                                   \
    X(ok, 0, "ok")                                                                                                   \
    X(no_route, ENETUNREACH, "no route to the destination")                                                          \
    X(bad_destination, ENETUNREACH,                                                                                  \
      "destination is not a unicast address (zero, loopback, multicast, broadcast or reserved)")                     \
    X(dst_is_local, ENETUNREACH, "destination is one of our own addresses (Floodgate has no loopback)")             \
    X(src_not_local, EADDRNOTAVAIL, "bound source address is not one of our addresses")                             \
    X(src_wrong_port, EADDRNOTAVAIL, "bound source address is on another port than the route leaves by")

enum class route_status : uint8_t {
#define FG_X(name, err, msg) name,
    FG_FOREACH_ROUTE_STATUS(FG_X)
#undef FG_X
};

int route_errno(route_status s);          // 0, ENETUNREACH, EADDRNOTAVAIL
const char* route_strerror(route_status s); // the message column above
const char* route_status_name(route_status s);

struct route_result {
    rte_be32_t next_hop = 0; // neighbour to resolve: dst itself if connected, else the gateway
    rte_be32_t src = 0;      // source address to put in the packet
    uint16_t port = 0;       // egress port id
    uint16_t mtu = 0;        // path MTU (route's own, else the port's)
    route_status status = route_status::no_route;

    bool ok() const { return status == route_status::ok; }
};

// One route as configured, for listings and tests (host byte order).
struct route_info {
    uint32_t prefix;  // network
    uint8_t plen;     // 0 for the default route
    uint32_t gateway; // 0 for a connected route
    uint32_t src;     // preferred source address
    uint16_t port;
    uint16_t mtu;
};

class route_table {
public:
    static constexpr uint32_t default_max_routes = 1024; // rte_lpm rules; more than any config file lists
    static constexpr uint32_t tbl8s = 256;  // /24s that may hold longer prefixes; 1 KB each

    // Builds the table with one connected route per configured subnet of
    // `addrs`, which must outlive the table and not change any more. Needs
    // EAL. Returns nullptr and a message on failure (EAL memory, bad config).
    static std::unique_ptr<route_table> create(const iface_addrs& addrs, std::string& error,
                                               uint32_t max_routes = default_max_routes);
    ~route_table();
    route_table(const route_table&) = delete;
    route_table& operator=(const route_table&) = delete;

    // prefix/plen via gateway (host order). plen 0 (prefix 0) is the default
    // route. mtu 0 means the egress port's. Fails with a message if the prefix
    // has host bits set, the route exists, or the gateway is not a unicast
    // address inside a connected subnet (or is one of our own addresses).
    bool add_route(uint32_t prefix, uint8_t plen, uint32_t gateway, std::string& error, uint16_t mtu = 0);
    bool add_default(uint32_t gateway, std::string& error) { return add_route(0, 0, gateway, error); }

    // Per connection / per packet: route to `dst`; `bound_src` 0 means "pick".
    // Both in network order. Lock-free, allocation-free, never throws.
    route_result lookup(rte_be32_t dst, rte_be32_t bound_src = 0) const;

    std::vector<route_info> routes() const;
    const iface_addrs& addrs() const { return _addrs; }

private:
    struct next_hop {
        rte_be32_t gateway; // 0: connected, the destination is the next hop
        rte_be32_t src;     // preferred source, in the next hop's subnet
        uint16_t port;
        uint16_t mtu;
        uint32_t prefix; // host order, for listings
        uint8_t plen;
    };
    route_table(const iface_addrs& addrs, rte_lpm* lpm);
    bool add(uint32_t prefix, uint8_t plen, const next_hop& nh, std::string& error);

    const iface_addrs& _addrs;
    rte_lpm* _lpm;
    std::vector<next_hop> _nh;
    uint32_t _default = UINT32_MAX; // index into _nh of the default route, if any
};

} // namespace fg::route
