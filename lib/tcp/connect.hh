// The active side of a tcp::engine: what connect() needs beyond the frame --
// the ephemeral port allocator (lib/port, sharded by owner lcore), the
// TIME-WAIT and FIN-WAIT-2 timeouts, tcp_tw_reuse, SYN retries -- and the
// bulk connection generator of the load generator.
//
// connect() (cmd_connect, one ring message per connection) goes: route and
// source address (route_table::lookup) -> local port (allocator, this lcore's
// 4-tuples only; a 4-tuple is free if this engine's table does not hold it,
// or holds a TIME-WAIT entry that tw_reuse may recycle) -> ISN (RFC 6528,
// isn_generator) and the pair's timestamp offset -> SYN in a new frame to the
// L2 hook -> a conn block in SYN-SENT, in the established table, with its SYN
// retransmission timer. Failures are events: unreachable (no route:
// ENETUNREACH; neighbour failed: EHOSTUNREACH via engine::l2_failed),
// no_port (EADDRNOTAVAIL, or ENOBUFS when the pool or table is full), refused
// (RST: ECONNREFUSED), timed_out (ETIMEDOUT after syn_retries).
//
// A ring message per connection costs too much at millions of connections
// per second, so a load generator configures `gen` instead: the lcore loop
// calls engine::generate() every iteration and it opens connections itself,
// paced by a token bucket (cps, burst) and bounded by a concurrency limit,
// round robin over the targets, exactly as connect() does but posting no
// events (only counters and the RTT histogram). Once established, each is
// closed at once with RST, or with FIN (FIN-WAIT-1 ... TIME-WAIT), or held
// for hold_ms and then closed with FIN.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <rte_byteorder.h>

#include "base/mem.hh"
#include "base/siphash.hh"
#include "base/steer.hh"
#include "base/tuple.hh"
#include "port/allocator.hh"
#include "tcp/engine.hh"
#include "tcp/rtt.hh"

namespace fg::tcp {

// X(name, "what the generator does with a connection once ESTABLISHED").
#define FG_FOREACH_GEN_CLOSE(X)                                                                                     \
    X(rst, "ACK the SYN-ACK, then RST and free at once (counted closed_by_rst)")                                    \
    X(fin, "ACK the SYN-ACK, then FIN at once: FIN-WAIT-1 ... TIME-WAIT")                                          \
    X(hold, "keep it ESTABLISHED for hold_ms, then FIN (hold_ms 0: until stop_generator())")

enum class close_mode : uint8_t {
#define FG_X(name, doc) name,
    FG_FOREACH_GEN_CLOSE(FG_X)
#undef FG_X
};
const char* close_mode_name(close_mode m);

struct generator_config {
    std::vector<tuple4> targets;    // raddr:rport to connect to, network order; laddr 0 = pick; lport ignored
    std::vector<rte_be32_t> laddrs; // source addresses (alloc_any over them) for targets with laddr 0; empty: route's
    double cps = 0;                 // this lcore's share of connections per second; 0: generator off
    uint64_t total = 0;             // connections to try on this lcore; 0 = unlimited
    uint32_t concurrency = 0;       // most generator connections not yet closed (SYN-SENT or held); 0 = unlimited
    close_mode close = close_mode::fin;
    uint32_t hold_ms = 0;           // close_mode::hold: how long; 0 = until stop_generator()
    uint32_t burst = 32;            // token bucket depth: connections one generate() call may open at most
};

// Where handshake RTTs and the ISN clock come from.
enum class active_clock : uint8_t {
    tsc,       // the TSC: microsecond RTTs, nanosecond ISN clock (lcores)
    engine_ms, // the engine's ms clock (tick()): deterministic, for tests
};

struct active_config {
    port::config ports;                  // ip_local_port_range and ip_local_reserved_ports
    const steering* steer = nullptr;     // the lcores' steering function; null: steering(n_lcores)
    std::optional<siphash_key> port_key; // RFC 6056 secret; empty: random at init
    uint8_t syn_retries = 6;             // Linux tcp_syn_retries: SYN sent 7 times, 127 s, then timed_out
    uint32_t time_wait_ms = 60000;       // Linux TCP_TIMEWAIT_LEN; load tests shorten it
    bool tw_reuse = false;               // Linux tcp_tw_reuse=1: recycle TIME-WAIT 4-tuples (timestamps, > 1 s)
    uint32_t fin_timeout_ms = 60000;     // Linux tcp_fin_timeout: FIN-WAIT-2 lifetime after close
    active_clock clock = active_clock::tsc;
    generator_config gen;
};

// conn::spare bits on active connections. Generator connections also carry
// conn's cf_auto ("no application"): the frame's post_event() posts nothing
// for them, and a peer FIN in ESTABLISHED is answered with ours at once.
enum active_flag : uint16_t {
    af_gen = 1u << 0,     // opened by the generator: no events, close mode applies
    af_counted = 1u << 1, // counts in the generator's in-flight number (until closed by the generator)
    af_simopen = 1u << 2, // SYN-SENT got a SYN: the SYN-RECEIVED of a simultaneous open (SYN-ACK sent)
};

// Linux tcp_twsk_unique: a reused TIME-WAIT 4-tuple starts its sequence
// space past anything the old incarnation could still have in flight.
inline uint32_t tw_reuse_isn(uint32_t tw_snd_nxt)
{
    const uint32_t isn = tw_snd_nxt + 65535 + 2;
    return isn == 0 ? 1 : isn;
}

struct active_state {
    // One generator target: where, and what routing said once at start.
    struct target {
        tuple4 t;         // laddr: the source to use (0: alloc_any over gen.laddrs)
        uint16_t mss = 0; // the MSS we advertise on this route
        int32_t err = 0;  // routing failed: every try is `unreachable` with this errno
    };
    // A held connection and when its hold ends.
    struct held {
        handle h;
        uint32_t expire_ms;
    };

    active_state(const active_config& c, const steering& s, uint16_t lcore, const siphash_key& k)
        : cfg(c), ports(c.ports, s, lcore, k)
    {
    }
    ~active_state() { free_huge(user_mem); }
    active_state(const active_state&) = delete;
    active_state& operator=(const active_state&) = delete;

    active_config cfg;
    port::allocator ports;
    rtt_histogram rtt;
    huge_region user_mem;    // connect()'s user value per pool slot (pages fault in as slots are used)
    uint64_t* user = nullptr;
    uint64_t tsc_per_us = 1; // active_clock::tsc
    double ns_per_tsc = 1.0;

    // ---- generator ----
    std::vector<target> targets;
    double tokens = 0;
    uint64_t last_ns = 0;
    uint64_t tries = 0;      // connections tried (counts toward gen.total, failures included)
    uint32_t in_flight = 0;  // generator connections not yet closed by the generator
    uint32_t next = 0;       // round-robin target index
    bool stopped = false;
    std::vector<held> hold;  // FIFO ring of held connections (close_mode::hold)
    uint32_t hold_head = 0;
    uint32_t hold_n = 0;
};

} // namespace fg::tcp
