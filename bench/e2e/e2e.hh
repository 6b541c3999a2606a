// Shared pieces of the end-to-end benchmarks (bench-e2e-handshake,
// bench-e2e-synflood, bench-e2e-memory): each is a whole program run by hand,
// `bench-e2e-x [EAL options] -- [options]`, that measures Floodgate and a
// baseline in the same run and prints the ratio (these 2-core machines are too
// noisy for absolute figures to mean much from one run to the next).
//
// What is here:
//  * raw ring-pair ports (no stack on them) and a peer lcore that does what a
//    trivial responder does -- rx_burst, swap MACs, tx_burst: the ring-port
//    floor every Floodgate figure is compared against;
//  * the blaster, one lcore that plays a whole population of clients against
//    a port: in `flood` mode it keeps the port's rx ring full of SYNs built
//    from a table of pre-made frames (each reply's mbuf is rebuilt into the
//    next SYN: no allocation in steady state) and counts what comes back; in
//    `handshake` mode it opens connections 0..N-1 once each, turning every
//    SYN-ACK into the third ACK in place, with a bounded window of SYNs in
//    flight so the responder's tx ring can never overflow (nothing is lost);
//  * the application side of a listener as a real server runs it: a thread
//    that takes accepted connections from the accept ring and closes or
//    aborts each through the stack API (as fg-server's workers do);
//  * reconciliation of a handshake run's two ends: every connection the
//    client saw ESTABLISHED was accepted by the responder, or a counter says
//    where it was lost;
//  * process memory (VmRSS/VmHWM), CPU pinning, load average, rate formatting.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "common/runtime.hh"
#include "core/stack.hh"

namespace fg::e2e {

// ---- process and machine ----
struct proc_mem {
    uint64_t rss_kb = 0; // VmRSS
    uint64_t hwm_kb = 0; // VmHWM (peak RSS)
    uint64_t hugetlb_kb = 0; // HugetlbPages: explicit hugepages mapped (not in VmRSS)
    uint64_t total_kb() const { return rss_kb + hugetlb_kb; }
};
proc_mem read_proc_mem();
std::string load_average();                  // "/proc/loadavg"'s first three fields
unsigned hugepages_2m_total();               // nr_hugepages
bool pin_this_thread(unsigned cpu);
double now_s();                              // steady clock, seconds
// CPU time, for figures per CPU second on a machine shared with other work:
pid_t ksoftirqd_pid(unsigned cpu);           // ksoftirqd/<cpu>'s pid, 0 if not found
uint64_t schedstat_ns(pid_t tid);            // ns a task (process or thread) has run: /proc/<tid>/schedstat; 0 if unknown
// The thread ids of EAL lcores: the main lcore is the main thread (getpid()),
// the others are DPDK's worker threads ("rte-worker-<id>" in 22.11). 0 for one not found.
std::vector<pid_t> lcore_tids(const std::vector<unsigned>& lcores);
std::string fmt_rate(double per_s);          // 1.23M, 45.6k

// ---- raw ports ----
// Configures and starts a ring port with one queue pair for a raw (non-stack)
// user; returns its MAC. False with `error`.
bool start_raw_port(uint16_t port_id, rte_ether_addr& mac, std::string& error);
// A port pair of `kind` (rt.port_pair) with both ports started raw: the
// floors' ports. `ma`/`mb`: the MACs of port a (the blaster's or client's)
// and port b (the peer lcore's). False with `error`.
bool raw_port_pair(apps::runtime& rt, apps::pair_kind kind, const std::string& name, uint16_t& pa, uint16_t& pb,
                   rte_ether_addr& ma, rte_ether_addr& mb, std::string& error);

// The ring-port floor: on the calling lcore, rx_burst from (port, 0), swap the
// Ethernet addresses of each frame, tx_burst back (frames the ring refuses are
// freed and counted), until `stop`.
struct reflector_stats {
    uint64_t rx = 0;
    uint64_t tx = 0;
    uint64_t dropped = 0;
    uint64_t tsc_total = 0;   // TSC cycles in the loop
    uint64_t tsc_idle = 0;    // ... in iterations that received nothing (the reflector was waiting)
};
void reflect_loop(uint16_t port_id, const std::atomic<bool>& stop, reflector_stats& out);
// One iteration of that loop, for a thread that interleaves it with others
// (one lcore: the blaster and the reflector take turns). Returns frames received.
uint16_t reflect_step(uint16_t port_id, reflector_stats& out);

// ---- SYN frames ----
struct syn_spec {
    rte_ether_addr src_mac{};
    rte_ether_addr dst_mac{};
    uint32_t dst_ip = 0;        // host order
    uint16_t dst_port = 80;
    uint32_t src_ip_base = 0;   // host order; sources are src_ip_base + (i % n_src_ips)
    uint32_t n_src_ips = 65536;
    uint16_t src_port_base = 1024; // source port = base + i / n_src_ips
    bool linux_options = true;  // MSS, SACK-permitted, timestamps, window scale (as Linux sends); else MSS only
    bool rx_cksum_good = false; // mark frames as a NIC with rx checksum offload would (classify skips the sums)
};
// Frame of SYN i (unique 4-tuple per i < n_src_ips * (65536 - src_port_base)).
// Returns its length (<= 128).
uint32_t make_syn(const syn_spec& s, uint64_t i, uint8_t* buf);
// Rewrites the SYN-ACK in `m` (as our stack built it in place) into the
// client's third ACK: addresses swapped, SEQ = their ACK, ACK = their SEQ+1,
// no options, checksums in software. False if m is not a SYN-ACK.
bool synack_to_ack(rte_mbuf* m, bool rx_cksum_good);

// ---- the blaster ----
struct blaster_config {
    uint16_t port_id = 0;
    rte_mempool* pool = nullptr;
    syn_spec syn;
    uint32_t flows = 16384;      // flood: distinct SYN frames cycled through
    uint64_t connections = 0;    // handshake: open 0..connections-1 once each
    uint32_t window = 2048;      // handshake: most SYNs without a reply yet (< the ring's 4096)
    uint32_t flood_in_flight = 0; // flood: most frames out at once (0: as many as the ring takes)
};

// Written by the blaster lcore only; others read (relaxed, a few packets old).
struct alignas(64) blaster_stats {
    std::atomic<uint64_t> syn_sent{0};
    std::atomic<uint64_t> synack{0};     // SYN-ACKs received
    std::atomic<uint64_t> rst{0};        // RSTs received
    std::atomic<uint64_t> other{0};      // anything else received
    std::atomic<uint64_t> acks_sent{0};  // handshake: third ACKs sent
    std::atomic<uint64_t> tx_retries{0}; // tx bursts the ring did not fully take (kept, sent again)
    std::atomic<uint64_t> tsc_total{0};  // TSC cycles in the loop
    std::atomic<uint64_t> tsc_idle{0};   // ... in iterations that received nothing and sent nothing (waiting on the peer)
    std::atomic<bool> done{false};       // handshake: all N answered and acknowledged
};

inline constexpr uint32_t blaster_pend = 128; // frames built but not yet taken by the ring

// The flood blaster as an object whose step() is one iteration of its loop
// (rx a burst, each reply's mbuf rebuilt into the next SYN, topped up from
// the pool, tx), so one thread can interleave it with the peer it floods
// (one lcore). Its TSC accounting covers its own steps only.
class flood_blaster {
public:
    explicit flood_blaster(const blaster_config& c);
    ~flood_blaster(); // frees the SYNs built but not sent
    flood_blaster(const flood_blaster&) = delete;
    flood_blaster& operator=(const flood_blaster&) = delete;
    void step(blaster_stats& out);

private:
    blaster_config _c;
    uint32_t _flows;
    std::vector<uint8_t> _table;
    std::vector<uint8_t> _lens;
    rte_mbuf* _pend[blaster_pend];
    uint32_t _np = 0;
    uint32_t _next = 0;
    uint64_t _population = 0; // mbufs the blaster allocated and has not freed (sent, in the peer, or pending)
};

// The handshake blaster as an object (see blast_handshakes); step() returns
// true once all c.connections are answered and acknowledged.
class handshake_blaster {
public:
    explicit handshake_blaster(const blaster_config& c) : _c(c) {}
    ~handshake_blaster();
    handshake_blaster(const handshake_blaster&) = delete;
    handshake_blaster& operator=(const handshake_blaster&) = delete;
    bool step(blaster_stats& out);

private:
    blaster_config _c;
    rte_mbuf* _pend[blaster_pend];
    uint32_t _np = 0;
    uint64_t _next = 0;    // next connection to open
    uint64_t _built = 0;   // SYNs built (sent or pending)
    uint64_t _replies = 0; // replies received (each ends one SYN's wait)
};

// Floods SYNs until `stop`.
void blast_flood(const blaster_config& c, const std::atomic<bool>& stop, blaster_stats& out);
// Opens c.connections handshakes (SYN, SYN-ACK, ACK) until all are acknowledged or `stop`.
void blast_handshakes(const blaster_config& c, const std::atomic<bool>& stop, blaster_stats& out);

// ---- the application side of a listener ----
// What an application does with each connection it accepts.
enum class app_close : uint8_t { rst, fin };

// What the application thread did, at one instant (plain values).
struct app_counts {
    uint64_t taken = 0, commands = 0, cmd_retries = 0, resets = 0, closed = 0, peer_closed = 0, other = 0, idle = 0;
};

// Written by the application thread only; others read (relaxed).
struct alignas(64) app_stats {
    std::atomic<uint64_t> taken{0};       // accepted events taken from the accept ring
    std::atomic<uint64_t> commands{0};    // abort() / close() issued, one per connection taken
    std::atomic<uint64_t> cmd_retries{0}; // command ring full: issued again
    std::atomic<uint64_t> resets{0};      // reset events (the peer's RST freed the connection)
    std::atomic<uint64_t> closed{0};      // closed events (freed after the FIN exchange)
    std::atomic<uint64_t> peer_closed{0}; // peer FIN events: answered with close()
    std::atomic<uint64_t> other{0};       // any other event
    std::atomic<uint64_t> idle{0};        // polls that found nothing (each followed by a 50 us sleep)
    app_counts read() const
    {
        return {taken.load(), commands.load(), cmd_retries.load(), resets.load(),
                closed.load(), peer_closed.load(), other.load(), idle.load()};
    }
};

// One application thread serving one listener of one stack, not pinned (the
// scheduler puts it where it can: on these 2-core machines, beside a polling
// lcore, whose time it then shares -- the cost of the real server path).
// Each round: accept_burst() from the listener's ring, abort() or close()
// each connection taken; then the stack's event rings (reset, closed,
// peer_closed -> close()), so they never fill; a round that found nothing
// sleeps 50 us, as fg-server's workers do. Runs from start() until stop().
class app_thread {
public:
    app_thread() = default;
    ~app_thread() { stop(); }
    app_thread(const app_thread&) = delete;
    app_thread& operator=(const app_thread&) = delete;

    void start(core::stack& st, tcp::listener& l, app_close how);
    // Stops and joins the thread (idempotent).
    void stop();
    // CPU time the thread has had so far (0 when not running).
    double cpu_s() const;
    const app_stats& stats() const { return _stats; }

private:
    void loop(core::stack& st, tcp::listener& l, app_close how);

    std::atomic<bool> _stop{false};
    std::thread _t;
    app_stats _stats;
};

// ---- reconciliation of a handshake run ----
// After a run has drained (nothing in flight on either side), every
// connection the client counted ESTABLISHED must have been accepted by the
// responder (cookies always: each is a cookie ACK accepted), and with an
// application thread every accepted connection must have been taken from the
// accept ring. reconcile() prints one line, "RECONCILED ..." when both
// hold, else "MISMATCH ..." followed by the counters of both stacks that say
// where connections went (frames the rings refused, accept ring overflows,
// cookies rejected, pool or table full, RSTs to the listener, classifier
// drops, ...). `explained` is set when the difference is covered by counted
// losses; unexplained differences are bugs.
struct reconciliation {
    bool drained = false;      // the run ended with nothing in flight
    uint64_t client_established = 0;
    uint64_t responder_accepted = 0; // tcp accepted (cookie ACKs accepted, hold or queue)
    uint64_t responder_cookies = 0;  // cookies_accepted
    uint64_t app_taken = 0;          // with an application thread
    uint64_t lost_counted = 0;       // connections the counters account for as lost between the ends
    bool with_app = false;
    bool ok = false;                 // client == responder (== app)
    bool explained = false;          // !ok, but the counted losses cover the difference
};
reconciliation reconcile(const char* what, const core::stack& client, const core::stack& responder,
                         const app_counts* app, bool drained);

} // namespace fg::e2e
