// fg::gen::generator is the load generator's engine-side half: on one lcore
// it opens connections to a list of targets at a given rate, bounded by a
// concurrency limit, and closes each one as the close mode says once it is
// established -- millions per second, with no ring message per connection.
//
// It is an application of the TCP engine like any other, only running on
// the lcore itself: it opens with engine::open_local(), closes with
// engine::close()/abort(), and learns what happened from the engine's local
// event sink (established, refused, timed_out, reset, peer_closed, closed,
// released). Everything Linux-specific -- ISNs, options, SYN-SENT rules,
// retransmission, TIME-WAIT -- stays in the engine, the same code an
// application's connect() runs. What the generator does differently from
// connect() is choosing source pairs: from per-target free lists
// (gen/pairs.hh), O(1) at any occupancy, instead of Linux's port scan.
//
// Per lcore: a token bucket (cps, burst), a concurrency count ("in flight":
// connections in SYN-SENT or held, not yet closed by the generator), a
// total, round robin over targets; per target: its route's MSS and the
// timestamp offset of each (source address, target address) pair, both
// computed once at start-up. Close modes: rst (RST right after the final ACK,
// as SO_LINGER 0), fin (FIN: FIN-WAIT-1 ... TIME-WAIT), hold (keep it open
// for hold_ms, then FIN; hold_ms 0: until stop()). Held connections with a
// hold time wait in a FIFO (12 bytes each; held ones without a hold time
// cost nothing here: stop() finds them by sweeping the engine's pool).
//
// config::share() splits a whole run's config over lcores (rate,
// concurrency and total); lcores with nothing to do get an idle share, which
// is valid (fg-loadgen -l 0-1 --connections 1).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <rte_byteorder.h>

#include "base/steer.hh"
#include "base/tuple.hh"
#include "gen/pairs.hh"
#include "tcp/engine.hh"

namespace fg::route {
class route_table;
class neigh_table;
} // namespace fg::route

namespace fg::gen {

// X(name, "what the generator does with a connection once ESTABLISHED").
#define FG_FOREACH_GEN_CLOSE(X)                                                                                     \
    X(rst, "ACK the SYN-ACK, then RST and free at once (counted closed_by_rst)")                                    \
    X(fin, "ACK the SYN-ACK, then FIN at once: FIN-WAIT-1 ... TIME-WAIT")                                          \
    X(hold, "keep it ESTABLISHED for hold_ms, then FIN (hold_ms 0: until stop())")

enum class close_mode : uint8_t {
#define FG_X(name, doc) name,
    FG_FOREACH_GEN_CLOSE(FG_X)
#undef FG_X
};
const char* close_mode_name(close_mode m);
// "rst" | "fin" | "hold" -> mode; false (out untouched) otherwise.
bool parse_close_mode(std::string_view s, close_mode& out);

// X(name, "meaning"): the generator's counters (per lcore; summed by the stack).
#define FG_FOREACH_GEN_COUNTER(X)                                                                                   \
    X(tried, "connections tried (count toward --connections, failures included)")                                   \
    X(no_port, "tries that found no free source pair for the target: every 4-tuple this lcore owns is in use")     \
    X(pair_busy, "tries whose source pair the engine refused (4-tuple or port in use elsewhere): pair re-queued")  \
    X(unroutable, "tries to a target with no route (every try is unreachable)")                                    \
    X(open_failed, "tries the engine refused for lack of memory (pool or table full)")                             \
    X(closed_by_rst, "connections closed with RST right after ESTABLISHED (close mode rst)")                       \
    X(closed_by_fin, "connections closed with FIN right after ESTABLISHED (close mode fin)")                       \
    X(held, "connections held open after ESTABLISHED (close mode hold)")                                           \
    X(hold_ended, "held connections closed with FIN when their hold time ran out or at stop")                      \
    X(held_lost, "held connections the peer reset or closed first")                                               \
    X(failed, "connections that ended before ESTABLISHED: refused, timed out, unreachable")                       \
    X(ended_in_exchange, "connections that ended before the close mode took them: the stream app's exchange ended") \
    X(released, "4-tuples given back to the free lists (the engine freed their blocks)")                          \
    X(arp_waits, "polls that held back a target's connections: its next hop's ARP queue was full")

enum class ctr : uint8_t {
#define FG_X(name, doc) name,
    FG_FOREACH_GEN_COUNTER(FG_X)
#undef FG_X
        count
};
inline constexpr unsigned n_counters = unsigned(ctr::count);
const char* counter_name(ctr c);
const char* counter_desc(ctr c);

struct counters {
    uint64_t v[n_counters] = {};
    void inc(ctr c, uint64_t n = 1) { v[unsigned(c)] += n; }
    uint64_t operator[](ctr c) const { return __atomic_load_n(&v[unsigned(c)], __ATOMIC_RELAXED); }
};

struct config {
    std::vector<tuple4> targets;    // raddr:rport to connect to, network order; laddr: a fixed source, or 0
    std::vector<rte_be32_t> laddrs; // sources for targets with laddr 0 (network order); empty: the route's source
    double cps = 0;                 // connections per second; 0: generator off
    uint64_t total = 0;             // connections to try; 0 = unlimited
    uint32_t concurrency = 0;       // most in flight (SYN-SENT or held); 0 = unlimited
    close_mode close = close_mode::rst;
    uint32_t hold_ms = 0;           // close_mode::hold: how long; 0 = until stop()
    uint32_t burst = 32;            // token bucket depth: connections one poll() may open at most
    uint16_t port_lo = 32768;       // local ports (Linux ip_local_port_range)
    uint16_t port_hi = 60999;
    std::vector<uint16_t> reserved_ports; // never used (ip_local_reserved_ports)

    bool enabled() const { return cps > 0 && !targets.empty(); }
    // Lcore i's share over n lcores: the rate, the connections and the
    // concurrency split as evenly as whole numbers allow, over as many
    // lcores as there are connections (and concurrency slots) to give out;
    // lcores beyond that get an idle share (no targets, cps 0). The shares
    // add up to the whole exactly (the rate to within rounding).
    config share(uint16_t n, uint16_t i) const;
};

// What the generator needs from its lcore.
struct env {
    tcp::engine* engine = nullptr;             // this lcore's engine (open_local / close / abort / events)
    const route::route_table* routes = nullptr; // null: targets need a fixed laddr or laddrs; MSS from `mss`
    const route::neigh_table* neigh = nullptr;  // this lcore's neighbours: no SYN flood into an unresolved one
    const steering* steer = nullptr;           // the stack's steering function (must outlive the generator)
    uint16_t lcore = 0;                        // this lcore's owner id under steer
};

class generator {
public:
    static constexpr uint32_t max_burst = 256; // config::burst at most: connections opened per poll()

    generator() = default;
    generator(const generator&) = delete;
    generator& operator=(const generator&) = delete;
    ~generator();

    // Routes every target, builds the pair spaces, registers as the engine's
    // local sink. False with a message on a bad config.
    bool init(const config& share, const env& e, std::string& error);

    // Opens what the token bucket and the concurrency limit allow at now_ns
    // (a monotonic clock), ends the holds due at the engine's ms clock, and
    // after stop() closes held connections (a bounded amount per call).
    // Returns how many connections it tried (0: idle).
    uint32_t poll(uint64_t now_ns);
    // No more connections; held ones are closed with FIN by the next polls.
    void stop() { __atomic_store_n(&_stopped, true, __ATOMIC_RELEASE); }
    bool stopped() const { return __atomic_load_n(&_stopped, __ATOMIC_ACQUIRE); }
    // Every connection tried (or stopped) and none still in flight.
    bool done() const;
    uint32_t in_flight() const { return __atomic_load_n(&_in_flight, __ATOMIC_RELAXED); }
    uint64_t tries() const { return __atomic_load_n(&_tries, __ATOMIC_ACQUIRE); }
    const counters& ctrs() const { return _ctr; }
    const config& cfg() const { return _cfg; }
    // Bytes of memory the generator holds per lcore (pair rings as faulted
    // in so far, hold FIFO, tables), for memory reports.
    std::size_t memory_bytes() const;

private:
    struct target {
        tuple4 t{};                     // raddr, rport
        uint16_t mss = 0;               // what we advertise on its route
        int32_t err = 0;                // routing failed: every try is unreachable with this errno
        std::vector<rte_be32_t> addrs;  // its sources
        std::vector<uint32_t> ts_off;   // timestamp offset per source (Linux secure_tcp_ts_off)
        pair_space pairs;
        rte_be32_t next_hop = 0;        // its route's neighbour (0: none known)
        uint32_t room = 0;              // SYNs its neighbour queue still takes (poll room_poll)
        uint64_t room_poll = 0;
    };
    struct held {
        tcp::handle h;
        uint32_t expire_ms;
    };
    // A connection about to be opened by poll().
    struct pending {
        tuple4 t;
        uint32_t target;
        uint32_t addr;
    };

    static void sink(void* ctx, const tcp::event& e);
    void on_event(const tcp::event& e);
    void on_established(const tcp::event& e);
    bool arp_room(target& tg);
    void in_flight_add(int32_t d) { __atomic_store_n(&_in_flight, uint32_t(int32_t(_in_flight) + d), __ATOMIC_RELAXED); }
    void end_holds();
    void sweep_held();
    void hold_push(const held& h);

    config _cfg;
    env _env;
    std::vector<target> _targets;
    uint32_t _next = 0;         // round-robin target
    uint64_t _poll_no = 0;
    double _tokens = 0;
    double _cps_per_ns = 0; // cps / 1e9 (no division per poll)
    uint64_t _last_ns = 0;
    bool _clock_started = false;
    uint64_t _tries = 0;
    uint32_t _in_flight = 0;
    bool _stopped = false;
    bool _registered = false;   // the engine's local sink is us
    uint32_t _sweep = 0;        // stop() with hold_ms 0: next pool slot to look at
    bool _sweep_done = false;
    std::vector<held> _hold;    // FIFO ring (hold_ms > 0)
    uint32_t _hold_head = 0;
    uint32_t _hold_n = 0;
    counters _ctr;
};

} // namespace fg::gen
