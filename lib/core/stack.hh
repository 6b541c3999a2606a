// A stack is Floodgate on one port: its addresses, routes, and one polling
// lcore per queue. Each lcore runs the run-to-completion loop of DPDK's l2fwd:
//
//   rx_burst -> classify (lib/net) -> ARP (reply / learn, fanned out to the
//   other lcores), ICMP echo (reply in place), TCP (steer: owner lcore, else
//   forward through the owner's redirect ring) -> tcp engine -> batched tx
//   with a TSC drain deadline; then the redirect ring, the command ring from
//   application threads, the timers every millisecond.
//
// Everything an lcore touches per packet lives in its own cache-aligned
// `lcore` block; the only shared state is read-mostly (addresses, routes, the
// steering function, listeners under RCU). Several stacks may run in one
// process (the load generator's embedded responder is a second stack on the
// other end of a ring pair), each on its own lcores.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <rte_ether.h>
#include <rte_ring.h>

#include "base/clock.hh"
#include "base/pktio.hh"
#include "base/steer.hh"
#include "core/counters.hh"
#include "net/classify.hh"
#include "route/addr.hh"
#include "route/neigh.hh"
#include "route/route.hh"
#include "route/route_cache.hh"
#include "table/listener_table.hh"
#include "gen/generator.hh"
#include "tcp/connect.hh"
#include "tcp/engine.hh"
#include "tcp/listener.hh"

namespace fg::core {

struct static_neigh {
    uint32_t ip = 0; // host order
    rte_ether_addr mac{};
};

struct stack_config {
    std::string name = "fg";                  // for telemetry and ring names
    uint16_t port_id = 0;                     // ethdev port
    std::vector<unsigned> lcores;             // EAL lcore ids, one queue each; empty: every lcore
    std::vector<route::addr_range> addrs;     // --ip, at least one
    uint32_t gateway = 0;                     // --gw (host order), 0: none
    std::vector<static_neigh> static_arp;     // --arp IP=MAC
    uint16_t mtu = 1500;
    bool gratuitous_arp = true;               // announce every configured address (up to garp_max) at start
    std::vector<uint32_t> resolve;            // --resolve: neighbours (host order) lcore 0 keeps resolving
    route::neigh_config neigh;
    uint32_t redirect_ring_size = 4096;       // per lcore: a few rx bursts of misdelivered segments
    uint32_t command_ring_size = 4096;        // per lcore: commands from application threads
    uint32_t event_ring_size = 65536;         // per lcore: events to application threads
    // The TCP engine of every lcore. The stack fills in lcore, n_lcores and
    // every pointer (listeners, secrets, routes, neighbours, rings, output).
    tcp::engine_config tcp;
    // The active side (ports, SYN retries, TIME-WAIT) of every engine.
    tcp::active_config active;
    // The load generator (off unless gen.cps > 0 and there are targets):
    // split over the lcores by gen::config::share(). Its port range and
    // reserved ports are taken from `active.ports`.
    gen::config gen;
    // Applications run on the lcores (tcp/stream.hh): one per lcore, made by
    // these factories (idx = the lcore's queue index) when set; the caller
    // owns what they return and keeps it alive as long as the stack. What
    // they send: tcp.templates.
    std::function<tcp::stream_app*(uint16_t idx)> active_app;  // generator connections
    std::function<tcp::stream_app*(uint16_t idx)> passive_app; // listeners with accept_action::serve
};

// Messages to an lcore (command ring, fixed 48-byte elements).
struct command {
    enum type : uint8_t { arp_fact = 1, tcp_cmd = 2, stop_gen = 3 };
    uint8_t type;
    uint8_t arp_kind;      // arp_fact: route::arp_kind
    uint16_t pad;
    rte_be32_t ip;         // arp_fact: sender IP
    rte_ether_addr mac;    // arp_fact: sender MAC
    uint16_t pad2;
    tcp::cmd tcp;          // tcp_cmd: close / abort / connect
};
static_assert(sizeof(command) == 48);

class stack;

// One polling lcore of a stack. Written only by its own lcore.
struct alignas(64) lcore {
    stack* st = nullptr;
    uint16_t idx = 0;          // queue index within the stack == steering owner id
    unsigned lcore_id = 0;     // EAL lcore id
    pkt_out out;               // tx batch on (port, idx)
    rte_ring* redirect = nullptr; // MP/SC ring of rte_mbuf* owned by this lcore
    rte_ring* commands = nullptr; // MP/SC ring of `command`
    std::unique_ptr<route::neigh_table> neigh;
    std::unique_ptr<route::route_cache> routes; // l2_send's next hops (the route table is fixed once lcores run)
    rte_ring* events = nullptr;   // SP/MC ring of tcp::event to application threads
    tcp::engine tcp;
    std::unique_ptr<gen::generator> gen; // the load generator on this lcore, if any
    ms_clock clock;
    uint32_t now_ms = 0;
    uint32_t next_resolve_ms = 0; // lcore 0: next round of --resolve requests
    uint64_t gen_seen_drops = 0;  // out.dropped when the generator last ran (backpressure)
    uint64_t tick_seen_drops = 0; // out.dropped at the last timer tick
    uint32_t timer_budget = 4096; // expiries per tick now (halved while the port refuses frames)
    uint64_t drain_tsc = 0;       // tx drain / timer period in TSC cycles
    uint64_t last_drain = 0;      // TSC of the last tx drain / timer check
    uint32_t rx_data_at = 0;      // where a frame of our pool starts, from its mbuf (prefetch guess)
    bool running = false;         // between begin() and end() of its loop
    core_counters ctr;
};

class stack {
public:
    static constexpr uint16_t rx_burst = 32;          // l2fwd's MAX_PKT_BURST
    static constexpr uint32_t drain_us = 100;         // l2fwd's BURST_TX_DRAIN_US: flush partial batches
    static constexpr uint32_t timer_floor = 64;       // expiries per ms at least, however full the tx queue
    static constexpr uint32_t garp_max = 64;          // gratuitous ARPs at start: enough to announce a LAN host

    // Brings up the port (drivers-glue) and everything per lcore. Needs EAL.
    // Returns nullptr with a message on any configuration or resource error.
    static std::unique_ptr<stack> create(const stack_config& cfg, std::string& error);
    ~stack();
    stack(const stack&) = delete;
    stack& operator=(const stack&) = delete;

    // The polling loop of the lcore calling it (must be one of this stack's
    // lcores). Returns when stop() is called.
    int run_lcore(unsigned lcore_id);
    // One iteration of lcore idx's loop on the calling thread, and its
    // end (final flush): for benchmarks and tests that drive several
    // stacks from one thread, deterministically. Not with run_lcore().
    void step(uint16_t idx);
    void finish(uint16_t idx);
    // The loops of several stacks that share lcore `lcore_id` (e.g. a load
    // generator and its responder on one lcore), interleaved iteration by
    // iteration; each must own that lcore. Returns when all are stopped.
    static int run_shared_lcore(const std::vector<stack*>& stacks, unsigned lcore_id);
    void stop() { _stop.store(true, std::memory_order_relaxed); }
    bool stopping() const { return _stop.load(std::memory_order_relaxed); }

    const stack_config& config() const { return _cfg; }
    uint16_t n_lcores() const { return uint16_t(_lcores.size()); }
    lcore& lc(uint16_t idx) { return *_lcores[idx]; }
    const lcore& lc(uint16_t idx) const { return *_lcores[idx]; }
    const steering& steer() const { return _steer; }
    const route::iface_addrs& addrs() const { return *_addrs; }
    const route::route_table& routes() const { return *_routes; }
    const rte_ether_addr& mac() const { return _mac; }
    bool sw_steering() const { return _sw_steering; }

    // Every counter (core/counters.hh registry): summed over the lcores
    // (idx < 0) or of lcore idx. Any thread; each value is read relaxed.
    counter_set counters(int idx = -1) const;

    // Sums over lcores, for stats lines, JSON and telemetry.
    uint64_t core_total(ctr c) const;
    uint64_t drop_total(net::drop d) const;
    route::neigh_counters neigh_total() const;

    // What lcore `idx` knows of neighbour `ip` (host order); any thread, for
    // reports after the lcores stopped (the table is not shared while they run).
    std::optional<route::neigh_view> neighbour(uint16_t idx, uint32_t ip) const
    {
        return _lcores[idx]->neigh->find(rte_cpu_to_be_32(ip));
    }

    // Sends `cmd` to lcore `idx` (any thread). False if its ring is full.
    bool send_command(uint16_t idx, const command& cmd);

    // ---- the application API (any thread) ----
    // listen(addr or 0 for any, port): nullptr with err = -EADDRINUSE,
    // -EINVAL, -ENOSPC or -ENOMEM and a message. Accepted connections arrive
    // as events on the listener's accept ring (listener::accept_burst()).
    std::unique_ptr<tcp::listener> listen(uint32_t addr, uint16_t port, const tcp::listen_options& o, int& err,
                                          std::string& message);
    // Stops listening; connections nobody accepted are aborted (RST).
    int unlisten(tcp::listener& l);
    // Orderly close (FIN) / abort (RST) of a connection; false if the owning
    // lcore's command ring is full (try again) or the handle names no lcore.
    bool close(const tcp::handle& h) { return tcp_command(tcp::cmd_type::close, h); }
    bool abort(const tcp::handle& h) { return tcp_command(tcp::cmd_type::abort, h); }
    // Active open to dst:dport (host order) from src (0: pick) : sport (0:
    // allocate), on the lcore that owns the tuple (or lcore 0 while the port
    // is unknown). The result comes as an event (established, refused, ...)
    // on that lcore's event ring, carrying `user`.
    bool connect(uint32_t dst, uint16_t dport, uint32_t src, uint16_t sport, uint64_t user);
    // Events (other than accepts) of lcore idx, any thread (multi-consumer).
    unsigned poll_events(uint16_t idx, tcp::event* out, unsigned n)
    {
        return rte_ring_mc_dequeue_burst_elem(_lcores[idx]->events, out, sizeof(tcp::event), n, nullptr);
    }
    uint64_t tcp_total(tcp::ctr c) const;
    // Connection blocks in use (every state, TIME-WAIT included), all lcores.
    uint64_t conns_in_use() const;
    // What the stack's pools hold, for checks that everything came back
    // (fg-loadgen's report: at the start and after draining; tests). Any
    // thread (relaxed reads); exact once the lcores stopped.
    struct pool_census {
        uint64_t conns = 0;           // connection blocks in use, all lcores (requests and TIME-WAIT included)
        uint64_t table_entries = 0;   // established-table entries
        uint64_t timers = 0;          // armed timers (connection timers: the wheels hold nothing else)
        uint64_t gen_in_flight = 0;   // generator connections in SYN-SENT or held
        uint64_t mbufs_available = 0; // free mbufs of the pool lcore 0 allocates from (rte_mempool_avail_count,
                                      // per-lcore caches included; shared by every port on its socket), plus
                                      // the raw mbufs this stack's lcores hold in their pkt_out stashes
        bool operator==(const pool_census&) const = default;
    };
    pool_census pools() const;
    // Connections in each state (index: tcp::state), all lcores: a census
    // of the pools (tcp::engine::count_states), any thread, O(slots ever used).
    std::array<uint64_t, tcp::n_states> state_counts() const;
    // Load generator: every lcore tried its share and nothing is in flight.
    bool generator_done() const;
    // Stops generating on every lcore; held connections are closed with FIN.
    void stop_generator();
    // Generator connections in flight (SYN-SENT or held), all lcores.
    uint64_t generator_in_flight() const;
    uint64_t gen_total(gen::ctr c) const;
    tcp::rtt_histogram rtt_total() const;

private:
    stack() = default;
    lcore* lcore_begin(unsigned lcore_id);
    void lcore_step(lcore& c);
    void lcore_end(lcore& c);
    void poll_once(lcore& c, uint64_t now_tsc); // now_tsc: read at the top of the iteration
    void handle_arp(lcore& c, rte_mbuf* m, const net::pkt_info& pi);
    void handle_icmp(lcore& c, rte_mbuf* m, const net::pkt_info& pi);
    // True if the segment is this lcore's to process; otherwise it was
    // forwarded to its owner or dropped (counted).
    bool accept_tcp(lcore& c, rte_mbuf* m, const net::pkt_info& pi);
    // Linux's checks between the IP header and the socket lookup: our MAC
    // (or, not for TCP, broadcast/multicast), our address, a source that is
    // not ours nor a broadcast. False: counted and freed.
    bool admit_ip(lcore& c, rte_mbuf* m, const net::pkt_info& pi, bool tcp);
    void handle_burst(lcore& c, rte_mbuf** pkts, uint16_t n);
    bool tcp_command(tcp::cmd_type t, const tcp::handle& h);
    static void l2_send(void* ctx, rte_mbuf* m, const tuple4& t);
    void handle_command(lcore& c, const command& cmd);
    void timers(lcore& c);
    void send_arp_request(lcore& c, rte_be32_t target);
    void send_garps(lcore& c);
    void apply_arp(lcore& c, rte_be32_t ip, const rte_ether_addr& mac, route::arp_kind kind);

    stack_config _cfg;
    steering _steer{1};
    std::unique_ptr<route::iface_addrs> _addrs;
    std::unique_ptr<route::route_table> _routes;
    std::vector<std::unique_ptr<lcore>> _lcores;
    std::vector<int> _lcore_to_idx; // EAL lcore id -> idx, -1 if not ours
    rte_ether_addr _mac{};
    uint32_t _max_frame = 1518; // MTU + Ethernet header + one VLAN tag (Linux is_skb_forwardable)
    bool _sw_steering = true;
    std::atomic<bool> _stop{false};
    table::listener_table _listeners;
    tcp::listener_registry _registry;
    std::unique_ptr<tcp::syncookie> _cookies;
    std::unique_ptr<tcp::isn_generator> _isn;
    std::vector<std::unique_ptr<tcp::active_config>> _active; // per lcore
    double _ns_per_tsc = 1.0;
};

} // namespace fg::core
