// Per-lcore counters of the loop itself, and the counter registry of a
// stack.
//
// Every layer keeps its counters as one X-macro list -- X(name, "what it
// counts") -- that gives the enum, the name string and the description (VPP's
// tcp_error.def): the loop (below), the classifier's drops (net/drop.hh), the
// TCP engine (tcp/counters.hh), the neighbour table (route/neigh.hh) and the
// established table (table/conn_table.hh). The registry lists those blocks
// once, with their names and descriptions; a counter_set is every counter of
// a stack (or of one of its lcores) at one instant, block after block. The
// apps' stats lines, their --json reports and rte_telemetry all read counters
// through a counter_set, so a counter added to any list shows up everywhere
// under one name, and nothing is read twice under two names.
//
// Keys: a counter's flat key (telemetry, JSON of the flat blocks) is the
// block's prefix + its name: "" for loop and tcp (their names are distinct,
// checked by a test), "drop_", "neigh_", "table_", "gen_" for the others. JSON
// reports put loop and tcp counters at the top level and the other blocks in
// objects of the block's name ("drops": {...}, "neigh": {...}, "table": {...},
// "gen": {...}: the load generator's own, lib/gen).
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "gen/generator.hh"
#include "net/drop.hh"
#include "route/neigh.hh"
#include "table/conn_table.hh"
#include "tcp/counters.hh"

#define FG_FOREACH_CORE_COUNTER(X)                                                                                  \
    X(rx_packets, "frames received from the port")                                                                  \
    X(rx_bytes, "bytes received from the port")                                                                     \
    X(tx_packets, "frames the port accepted for transmission")                                                      \
    X(tx_dropped, "frames lost: the tx queue was full and so was its backlog (freed)")                               \
    X(tx_deferred, "frames the full tx queue refused at first, kept in the backlog and sent later")                 \
    X(oversize, "frames longer than the MTU + 18 (Ethernet + VLAN tag): dropped, as a Linux device drops them")     \
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
    X(martian_src, "IPv4 frames from one of our own addresses or a subnet broadcast (Linux: martian source): dropped") \
    X(l2_otherhost, "IPv4 frames to another host's MAC address (Linux: PACKET_OTHERHOST): dropped")                 \
    X(l2_not_unicast, "TCP segments in a broadcast or multicast frame (Linux tcp_v4_rcv: not PACKET_HOST): dropped") \
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

// ---- the registry ----

enum class block : uint8_t { loop, drops, tcp, neigh, table, gen, count };
inline constexpr unsigned n_blocks = unsigned(block::count);

#define FG_X(name, desc) +1
inline constexpr unsigned n_neigh_counters = 0 FG_FOREACH_NEIGH_COUNTER(FG_X);
inline constexpr unsigned n_table_counters = 0 FG_CONN_TABLE_COUNTERS(FG_X);
#undef FG_X

struct block_info {
    const char* name;           // "loop", "drops", "tcp", "neigh", "table": JSON object, report sections
    const char* prefix;         // flat key prefix: "", "drop_", "", "neigh_", "table_"
    bool flat;                  // JSON reports put its counters at the top level
    unsigned n;                 // counters in the block
    unsigned offset;            // first index in a counter_set
    const char* const* names;   // n names
    const char* const* descs;   // n descriptions
};

// The blocks, in counter_set order.
const std::array<block_info, n_blocks>& blocks();
inline const block_info& block_of(block b) { return blocks()[unsigned(b)]; }

inline constexpr unsigned n_all_counters =
    n_core_counters + net::n_drops + tcp::n_counters + n_neigh_counters + n_table_counters + gen::n_counters;

// Every counter of a stack (summed over lcores) or of one lcore, at one
// instant: stack::counters(). Plain values: copy, subtract, keep as history.
struct counter_set {
    std::array<uint64_t, n_all_counters> v{};

    uint64_t get(block b, unsigned i) const { return v[block_of(b).offset + i]; }
    uint64_t& at(block b, unsigned i) { return v[block_of(b).offset + i]; }
    uint64_t operator[](ctr c) const { return get(block::loop, unsigned(c)); }
    uint64_t operator[](net::drop d) const { return get(block::drops, unsigned(d)); }
    uint64_t operator[](tcp::ctr c) const { return get(block::tcp, unsigned(c)); }
    uint64_t operator[](gen::ctr c) const { return get(block::gen, unsigned(c)); }

    // fn(const block_info&, unsigned i, uint64_t value) for every counter, in order.
    template <class Fn>
    void visit(Fn&& fn) const
    {
        for (const block_info& b : blocks()) {
            for (unsigned i = 0; i < b.n; i++) {
                fn(b, i, v[b.offset + i]);
            }
        }
    }
    // Counter by counter: this - earlier (counters only grow; 0 if one went back).
    counter_set since(const counter_set& earlier) const
    {
        counter_set d;
        for (unsigned i = 0; i < n_all_counters; i++) {
            d.v[i] = v[i] >= earlier.v[i] ? v[i] - earlier.v[i] : 0;
        }
        return d;
    }
};

// The flat key of counter i of block b (prefix + name), e.g. "drop_bad_ip_cksum".
std::string flat_key(const block_info& b, unsigned i);

} // namespace fg::core
