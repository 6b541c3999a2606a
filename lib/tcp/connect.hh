// The active side of a tcp::engine: what connect() needs beyond the frame --
// the ephemeral port allocator (lib/port, sharded by owner lcore), the
// TIME-WAIT and FIN-WAIT-2 timeouts, tcp_tw_reuse, SYN retries.
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
// The bulk connection generator of the load generator (lib/gen) is not
// here: it runs on the lcore as a local application of the engine
// (engine::open_local / close / abort and a local event sink), with its own
// O(1) source-pair free lists instead of the Linux-exact port scan.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <rte_byteorder.h>

#include "base/mem.hh"
#include "base/siphash.hh"
#include "base/steer.hh"
#include "base/tuple.hh"
#include "port/allocator.hh"
#include "tcp/engine.hh"
#include "tcp/rtt.hh"

namespace fg::tcp {

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
    uint8_t syn_linear_timeouts = 0;     // Linux 6.5+ tcp_syn_linear_timeouts (default 4 there): the first N SYN
                                         // retransmissions keep the initial RTO, and N more are allowed; 0 = classic
    uint32_t time_wait_ms = 60000;       // Linux TCP_TIMEWAIT_LEN; load tests shorten it
    bool tw_reuse = false;               // Linux tcp_tw_reuse=1: recycle TIME-WAIT 4-tuples (timestamps, > 1 s)
    uint32_t fin_timeout_ms = 60000;     // Linux tcp_fin_timeout: FIN-WAIT-2 lifetime after close
    active_clock clock = active_clock::tsc;
};

// Linux tcp_twsk_unique: a reused TIME-WAIT 4-tuple starts its sequence
// space past anything the old incarnation could still have in flight.
inline uint32_t tw_reuse_isn(uint32_t tw_snd_nxt)
{
    const uint32_t isn = tw_snd_nxt + 65535 + 2;
    return isn == 0 ? 1 : isn;
}

struct active_state {
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
    uint64_t us_per_tsc_q64 = 0; // active_clock::tsc: microseconds per TSC cycle, 0.64 fixed point
    uint64_t ns_per_tsc_q32 = 0; // nanoseconds per TSC cycle, 32.32 fixed point
};

} // namespace fg::tcp
