// conn is one TCP connection's state: a single 64-byte cache line, so that a
// lcore can hold ten million of them and a segment touches one line of
// connection state after its table lookup. Half-open entries (SYN-RECEIVED,
// Linux's request socks) use the same block and live in the same established
// table, so the third ACK is one lookup like any other segment.
//
// What does not fit is not kept: no send or receive buffers (no data transfer
// yet: payload is ACKed and discarded), no SACK scoreboard, no RTT estimator
// state beyond the start time, no MAC addresses (segments built from scratch go
// through the engine's L2 hook). Sequence numbers are host order; the tuple is
// network order as it sits in the packet (base/tuple.hh).
//
// States are the RFC 9293 ones, one X-macro line each; LISTEN has no conn
// (listeners are tcp::listener objects in the listener table).
#pragma once

#include <cstdint>

#include "base/tuple.hh"
#include "timer/wheel.hh"

// X(name): RFC 9293 3.3.2 connection states that have a conn block.
#define FG_FOREACH_TCP_STATE(X)                                                                                     \
    X(closed)       /* free block, or about to be freed */                                                          \
    X(syn_sent)     /* active open: SYN sent, waiting for SYN-ACK */                                                \
    X(syn_received) /* passive open: SYN-ACK sent, waiting for the third ACK (request entry) */                     \
    X(established)  /* handshake done */                                                                            \
    X(fin_wait_1)   /* we closed first: FIN sent, not yet ACKed */                                                  \
    X(fin_wait_2)   /* our FIN ACKed, waiting for the peer's */                                                     \
    X(close_wait)   /* the peer closed first: its FIN ACKed, waiting for the application's close */                 \
    X(closing)      /* simultaneous close: both FINs sent, ours not yet ACKed */                                    \
    X(last_ack)     /* the peer closed first and so did we: waiting for the ACK of our FIN */                      \
    X(time_wait)    /* we closed first, all done: 2 MSL quarantine of the 4-tuple */

namespace fg::tcp {

enum class state : uint8_t {
#define FG_X(name) name,
    FG_FOREACH_TCP_STATE(FG_X)
#undef FG_X
        count
};

inline constexpr unsigned n_states = unsigned(state::count);

inline const char* state_name(state s)
{
    static constexpr const char* names[] = {
#define FG_X(name) #name,
        FG_FOREACH_TCP_STATE(FG_X)
#undef FG_X
    };
    return unsigned(s) < n_states ? names[unsigned(s)] : "unknown";
}

// Sequence-space comparisons (RFC 9293 3.4, modulo 2^32).
inline bool seq_lt(uint32_t a, uint32_t b) { return int32_t(a - b) < 0; }
inline bool seq_leq(uint32_t a, uint32_t b) { return int32_t(a - b) <= 0; }
inline bool seq_gt(uint32_t a, uint32_t b) { return int32_t(a - b) > 0; }
inline bool seq_geq(uint32_t a, uint32_t b) { return int32_t(a - b) >= 0; }

// TCP header flag bits (rte_tcp.h's RTE_TCP_*_FLAG), short names for handlers.
inline constexpr uint8_t th_fin = 0x01;
inline constexpr uint8_t th_syn = 0x02;
inline constexpr uint8_t th_rst = 0x04;
inline constexpr uint8_t th_psh = 0x08;
inline constexpr uint8_t th_ack = 0x10;
inline constexpr uint8_t th_urg = 0x20;

// conn::flags bits.
enum conn_flag : uint8_t {
    cf_ts_ok = 1u << 0,       // timestamps negotiated: every segment carries TSval/TSecr
    cf_sack_ok = 1u << 1,     // SACK-permitted negotiated (we never send SACK blocks yet)
    cf_ws_ok = 1u << 2,       // window scaling negotiated (wscale byte meaningful)
    cf_app_closed = 1u << 3,  // the application called close(): it no longer holds the handle
    cf_from_cookie = 1u << 4, // created by a valid SYN-cookie ACK (no request entry existed)
    cf_passive = 1u << 5,     // created by a listener (accepted side)
    cf_fin_rcvd = 1u << 6,    // the peer's FIN was accepted (rcv_nxt counts it)
    cf_auto = 1u << 7,        // accepted on the lcore (listener accept_action::hold): no application; a peer FIN is answered with ours
};

// conn::spare bits on active connections.
enum active_flag : uint16_t {
    af_local = 1u << 0,   // opened by engine::open_local(): events go to the local sink, `released` when freed
    af_pending = 1u << 1, // local: no event posted yet (the next one carries ev_pending)
    af_told = 1u << 3,    // local: a terminal event was posted; only `released` follows
};

struct conn {
    tuple4 tuple;          // our view, network order: laddr/lport us, raddr/rport the peer
    timer::link tl;        // the connection's one timer (SYN/SYN-ACK/FIN retransmit, TIME_WAIT)
    uint32_t iss;          // initial send sequence number (ours)
    uint32_t snd_una;      // oldest unacknowledged sequence number
    uint32_t snd_nxt;      // next sequence number to send
    uint32_t rcv_nxt;      // next sequence number expected from the peer
    uint32_t ts_recent;    // the peer's last TSval (echoed as TSecr), if cf_ts_ok
    uint32_t ts_offset;    // added to our ms clock to make TSval (isn_generator::ts_offset)
    uint32_t t0;           // start time (engine ms clock): SYN or SYN-ACK first sent; TIME_WAIT entry
    uint16_t mss;          // negotiated send MSS
    uint16_t snd_wnd;      // the peer's last window field (unscaled; shift by snd_wscale())
    state st;              // connection state
    uint8_t flags;         // conn_flag bits
    uint8_t wscale;        // low nibble: snd_wscale (peer's shift), high nibble: rcv_wscale (ours)
    uint8_t retries;       // retransmissions of the segment the timer guards
    uint16_t listener;     // passive side: listener ref (tcp::listener::ref()); active: 0, or open_local()'s tag
                           // (never a listener ref: check cf_passive before looking a listener up)
    uint16_t spare;        // active side: active_flag bits

    uint8_t snd_wscale() const { return wscale & 0x0f; }
    uint8_t rcv_wscale() const { return uint8_t(wscale >> 4); }
    void set_wscale(uint8_t snd, uint8_t rcv) { wscale = uint8_t((snd & 0x0f) | (rcv << 4)); }
    bool has(conn_flag f) const { return (flags & f) != 0; }
    void set(conn_flag f) { flags = uint8_t(flags | f); }
    void clear(conn_flag f) { flags = uint8_t(flags & ~f); }
};
static_assert(sizeof(conn) == 64, "a connection is exactly one cache line");

} // namespace fg::tcp
