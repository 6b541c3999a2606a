// Per-lcore counters of the loop itself (the TCP engine and the neighbour
// table keep their own). One X-macro line gives the enum, the name string, the
// telemetry key and the JSON key, as VPP's tcp_error.def does.
#pragma once

#include <cstdint>

#include "net/drop.hh"

#define FG_FOREACH_CORE_COUNTER(X)                                                                                  \
    X(rx_packets, "frames received from the port")                                                                  \
    X(rx_bytes, "bytes received from the port")                                                                     \
    X(tx_packets, "frames the port accepted for transmission")                                                      \
    X(tx_dropped, "frames the port refused (tx queue full): freed")                                                 \
    X(arp_in, "ARP frames received")                                                                                \
    X(arp_replies_sent, "ARP replies to requests for our addresses")                                                \
    X(arp_requests_sent, "ARP requests sent to resolve next hops")                                                  \
    X(arp_not_for_us, "ARP requests for addresses that are not ours")                                               \
    X(arp_fanout, "ARP facts passed to the other lcores")                                                           \
    X(arp_fanout_dropped, "ARP facts lost because another lcore's command ring was full")                           \
    X(garp_sent, "gratuitous ARPs sent at start")                                                                   \
    X(icmp_echo_replies, "ICMP echo replies sent")                                                                  \
    X(not_local, "IPv4 frames for an address that is not ours: dropped")                                            \
    X(to_broadcast, "IPv4 frames to a subnet broadcast address: dropped")                                           \
    X(tcp_in, "TCP segments handed to the TCP engine")                                                              \
    X(redirected, "TCP segments forwarded to their owner lcore")                                                    \
    X(redirect_dropped, "TCP segments lost because the owner's redirect ring was full")                             \
    X(redirected_in, "TCP segments received from other lcores")                                                     \
    X(loop_alloc_failed, "ARP frames not built because the mempool was empty")                                          \
    X(neigh_queue_dropped, "frames dropped waiting for ARP (queue full or neighbour unreachable)")                   \
    X(loops, "iterations of the polling loop")                                                                      \
    X(busy_loops, "iterations that found work")

namespace fg::core {

enum class ctr : uint16_t {
#define FG_X(name, desc) name,
    FG_FOREACH_CORE_COUNTER(FG_X)
#undef FG_X
        count
};
inline constexpr unsigned n_core_counters = unsigned(ctr::count);

const char* ctr_name(ctr c);
const char* ctr_desc(ctr c);

// Written only by the owning lcore; read (relaxed) by stats and telemetry.
struct core_counters {
    uint64_t v[n_core_counters] = {};
    uint64_t drops[net::n_drops] = {}; // classifier drops, by reason (net/drop.hh names)

    void inc(ctr c, uint64_t n = 1) { v[unsigned(c)] += n; }
    uint64_t get(ctr c) const { return __atomic_load_n(&v[unsigned(c)], __ATOMIC_RELAXED); }
};

} // namespace fg::core
