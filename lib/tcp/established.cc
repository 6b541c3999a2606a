// The synchronized states (RFC 9293 3.10.7.4 "Otherwise"): the checks every
// synchronized state makes in the same order -- sequence acceptability, RST
// (RFC 5961 3: exact -> reset, in window -> challenge ACK), SYN (RFC 5961 4:
// challenge ACK), the ACK bit, ACK acceptability -- then payload and FIN;
// and the handlers of ESTABLISHED, CLOSE-WAIT and LAST-ACK. FIN-WAIT-1/2,
// CLOSING and TIME-WAIT (active_close.cc) use the same checks.
//
// No data transfer yet: payload is acknowledged (RCV.NXT advances over
// in-order bytes, so the peer does not retransmit them) and discarded, counted
// in payload_bytes_discarded. Our receive window is therefore always the full
// initial window.
#include <cerrno>

#include "net/tcp_options.hh"
#include "tcp/engine.hh"

namespace fg::tcp {

namespace {

constexpr int32_t paws_window = 1; // Linux TCP_PAWS_WINDOW: TSvals this far back still pass

// 3.10.7.4 first, as Linux's tcp_sequence() decides it: a segment is
// acceptable unless it ends before RCV.NXT or starts beyond RCV.NXT +
// RCV.WND. (RFC 9293's four cases are stricter at both edges: a zero-length
// segment exactly at the right edge, or one ending exactly at RCV.NXT --
// a retransmitted FIN -- pass here, as they do in Linux.)
bool acceptable(uint32_t seq, uint32_t seg_len, uint32_t rcv_nxt, uint32_t rcv_wnd)
{
    return !seq_lt(seq + seg_len, rcv_nxt) && !seq_gt(seq, rcv_nxt + rcv_wnd);
}

} // namespace

bool engine::oow_limited(uint32_t& last_ms)
{
    // Linux __tcp_oow_rate_limited(): one out-of-window (or challenge) ACK
    // per invalid_ratelimit_ms per connection, so two hosts that disagree
    // about a connection cannot ping-pong ACKs at line rate. 0 = never sent.
    if (last_ms != 0) {
        const int32_t elapsed = int32_t(_now_ms - last_ms);
        if (elapsed >= 0 && uint32_t(elapsed) < _cfg.invalid_ratelimit_ms) {
            _ctr.inc(ctr::oow_ack_rate_limited);
            return true;
        }
    }
    last_ms = _now_ms != 0 ? _now_ms : 1;
    return false;
}

void engine::send_challenge_ack(conn& c, rte_mbuf* m)
{
    // RFC 5961 3.2 / 4.2 / 5.2: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>. Linux
    // tcp_send_challenge_ack(): first the connection's own limit (one per
    // invalid_ratelimit_ms), then the host-wide one (tcp_challenge_ack_limit,
    // per lcore here).
    if (has_oow_stamp(c) && oow_limited(c.t0)) {
        rte_pktmbuf_free(m);
        return;
    }
    if (!_challenge_limit.take(_now_ms)) {
        drop(m, ctr::challenge_ack_rate_limited);
        return;
    }
    _ctr.inc(ctr::challenge_acks);
    send_ack(c, m);
}

void engine::send_dupack(conn& c, rte_mbuf* m, const net::pkt_info& pi)
{
    // Linux tcp_validate_incoming(): an unacceptable segment gets a
    // duplicate ACK unless the connection's out-of-window limit says no --
    // which never holds back the answer to a segment carrying data
    // (tcp_oow_rate_limited: "data packets without SYNs are not likely part
    // of an ACK loop").
    const bool data = pi.payload_len != 0 || (pi.tcp_flags & th_fin);
    if (!data && has_oow_stamp(c) && oow_limited(c.t0)) {
        rte_pktmbuf_free(m);
        return;
    }
    send_ack(c, m);
}

bool engine::sync_checks(conn& c, uint32_t slot, rte_mbuf*& m, const net::pkt_info& pi)
{
    const uint8_t f = pi.tcp_flags;
    const uint32_t rcv_wnd = uint32_t(rcv_window(c)) << (c.has(cf_ws_ok) ? c.rcv_wscale() : 0);

    // Linux checks for a segment with none of ACK, RST, SYN first: dropped.
    if (!(f & (th_ack | th_rst | th_syn))) {
        drop(m, ctr::no_ack_dropped);
        m = nullptr;
        return false;
    }

    // PAWS (RFC 7323 5.3, Linux tcp_paws_discard): on a connection with
    // timestamps, a segment whose TSval is older than the last one we took is
    // an old duplicate -- ACKed (rate limited) and dropped, unless it is an
    // RST; a SYN gets the challenge ACK it would get anyway.
    net::tcp_options o;
    if (c.has(cf_ts_ok) && pi.opt_len != 0) {
        net::parse_tcp_options(rte_pktmbuf_mtod(m, const uint8_t*) + pi.opt_off, pi.opt_len, false, o);
        if (o.has_ts && int32_t(c.ts_recent - o.ts_val) > paws_window && !(f & th_rst)) {
            _ctr.inc(ctr::paws_rejected);
            if (f & th_syn) {
                send_challenge_ack(c, m);
            } else {
                send_dupack(c, m, pi);
            }
            m = nullptr;
            return false;
        }
    }

    // First: check the sequence number. "If a segment's contents straddle the
    // boundary between old and new, only the new parts are processed." An
    // unacceptable segment gets <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> unless
    // it is an RST, and is dropped.
    if (!acceptable(pi.seq, net::seg_len(pi), c.rcv_nxt, rcv_wnd)) {
        if (f & th_rst) {
            // Linux tcp_reset_check(): after the peer's FIN, an RST carrying
            // that FIN's sequence number still resets.
            if (pi.seq + 1 == c.rcv_nxt && c.has(cf_fin_rcvd) &&
                (c.st == state::close_wait || c.st == state::last_ack || c.st == state::closing)) {
                reset_by_peer(c, slot, m);
            } else {
                drop(m, ctr::rst_out_of_window);
            }
        } else if (f & th_syn) {
            send_challenge_ack(c, m); // RFC 5961 4.2 "irrespective of the sequence number" (Linux too)
        } else {
            _ctr.inc(ctr::out_of_window);
            send_dupack(c, m, pi);
        }
        m = nullptr;
        return false;
    }

    // Second: check the RST bit (RFC 5961 3.2). Exactly RCV.NXT: reset the
    // connection ("any outstanding RECEIVEs and SEND should receive reset
    // responses ... enter CLOSED, delete the TCB"). Elsewhere in the window:
    // challenge ACK, and drop.
    if (f & th_rst) {
        if (pi.seq == c.rcv_nxt) {
            reset_by_peer(c, slot, m);
            m = nullptr;
            return false;
        }
        send_challenge_ack(c, m);
        m = nullptr;
        return false;
    }

    // Third: security/compartment -- not used.

    // Fourth: check the SYN bit (RFC 5961 4.2): in any synchronized state,
    // a SYN, in window or not, gets a challenge ACK and is dropped.
    if (f & th_syn) {
        send_challenge_ack(c, m);
        m = nullptr;
        return false;
    }

    // Fifth: check the ACK field. "If the ACK bit is off, drop the segment."
    if (!(f & th_ack)) {
        drop(m, ctr::no_ack_dropped);
        m = nullptr;
        return false;
    }
    // An ACK of something never sent (SEG.ACK > SND.NXT): "send an ACK, drop
    // the segment, and return" -- as a challenge ACK, rate limited, as Linux
    // does it (tcp_ack; kernels before 6.x dropped it silently in
    // ESTABLISHED). Nothing in the segment is taken.
    if (seq_gt(pi.ack, c.snd_nxt)) {
        _ctr.inc(ctr::ack_too_new);
        send_challenge_ack(c, m);
        m = nullptr;
        return false;
    }
    // An ACK older than anything the peer may still acknowledge (RFC 5961
    // 5.2, Linux: SEG.ACK < SND.UNA - min(max window, bytes acked)). We send
    // no data, so the bytes acked are our FIN at most and the bound is ISS +
    // 1: an ACK at or below our ISN gets a challenge ACK and is dropped.
    if (seq_leq(pi.ack, c.iss)) {
        _ctr.inc(ctr::ack_too_old);
        send_challenge_ack(c, m);
        m = nullptr;
        return false;
    }
    // "If SND.UNA < SEG.ACK =< SND.NXT, then set SND.UNA <- SEG.ACK" and
    // update the send window; a duplicate ACK (SEG.ACK =< SND.UNA) is ignored.
    if (seq_lt(c.snd_una, pi.ack)) {
        c.snd_una = pi.ack;
    }
    if (pi.ack == c.snd_una) {
        c.snd_wnd = pi.window;
    }
    // RFC 7323 4.3: remember the TSval of a segment that covers RCV.NXT.
    if (o.has_ts && seq_leq(pi.seq, c.rcv_nxt) && seq_geq(o.ts_val, c.ts_recent)) {
        c.ts_recent = o.ts_val;
    }
    return true;
}

void engine::reset_by_peer(conn& c, uint32_t slot, rte_mbuf* m)
{
    _ctr.inc(ctr::rst_received);
    rte_pktmbuf_free(m);
    post_event(c, event_type::reset, ECONNRESET);
    free_conn(c, slot);
}

bool engine::data_and_fin(conn& c, rte_mbuf* m, const net::pkt_info& pi)
{
    bool need_ack = false;
    bool fin_now = false;
    const uint32_t len = pi.payload_len;

    // Seventh: segment text. We do not deliver data: in-order bytes are
    // acknowledged (RCV.NXT advances) and dropped; an out-of-order segment is
    // answered with a duplicate ACK. After the peer's FIN no data can come.
    if (len != 0) {
        _ctr.inc(ctr::data_segments);
        _ctr.add(ctr::payload_bytes_discarded, len);
        if (!c.has(cf_fin_rcvd) && seq_leq(pi.seq, c.rcv_nxt) && seq_gt(pi.seq + len, c.rcv_nxt)) {
            c.rcv_nxt = pi.seq + len;
        }
        need_ack = true;
    }

    // Eighth: check the FIN bit. In order: "advance RCV.NXT over the FIN,
    // and send an acknowledgment"; a retransmitted FIN is ACKed again.
    if (pi.tcp_flags & th_fin) {
        if (!c.has(cf_fin_rcvd) && pi.seq + len == c.rcv_nxt) {
            c.rcv_nxt++;
            c.set(cf_fin_rcvd);
            _ctr.inc(ctr::fin_received);
            fin_now = true;
        }
        need_ack = true;
    }

    if (need_ack) {
        _ctr.inc(ctr::acks_sent);
        send_ack(c, m);
    } else {
        rte_pktmbuf_free(m);
    }
    return fin_now;
}

void engine::on_established(conn& c, uint32_t slot, rte_mbuf* m, const net::pkt_info& pi)
{
    if (!sync_checks(c, slot, m, pi)) {
        return;
    }
    c.retries = 0; // a held connection's idle quarters start over (no other use in ESTABLISHED)
    // ESTABLISHED: FIN -> "Enter the CLOSE-WAIT state" and tell the application.
    if (data_and_fin(c, m, pi)) {
        peer_fin(c, slot);
    }
}

void engine::peer_fin(conn& c, uint32_t slot)
{
    c.st = state::close_wait;
    if (!c.has(cf_auto)) {
        post_event(c, event_type::peer_closed);
        return;
    }
    // 3.10.4 CLOSE in CLOSE-WAIT on behalf of the absent application.
    c.set(cf_app_closed);
    c.st = state::last_ack;
    c.retries = 0;
    arm(slot, backoff_ms(0));
    send_fin(c, nullptr);
}

void engine::on_close_wait(conn& c, uint32_t slot, rte_mbuf* m, const net::pkt_info& pi)
{
    // CLOSE-WAIT: nothing but ACKs of what we never sent; a retransmitted FIN
    // is ACKed again. Waiting for the application's close().
    if (!sync_checks(c, slot, m, pi)) {
        return;
    }
    data_and_fin(c, m, pi);
}

void engine::on_last_ack(conn& c, uint32_t slot, rte_mbuf* m, const net::pkt_info& pi)
{
    if (!sync_checks(c, slot, m, pi)) {
        return;
    }
    // LAST-ACK: "The only thing that can arrive in this state is an
    // acknowledgment of our FIN. If our FIN is now acknowledged, delete the
    // TCB, enter the CLOSED state, and return."
    if (c.snd_una == c.snd_nxt) {
        rte_pktmbuf_free(m);
        _ctr.inc(ctr::closed);
        post_event(c, event_type::closed);
        free_conn(c, slot);
        return;
    }
    data_and_fin(c, m, pi);
}

} // namespace fg::tcp
