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

// 3.10.7.4 first: the four cases of segment acceptability.
bool acceptable(uint32_t seq, uint32_t seg_len, uint32_t rcv_nxt, uint32_t rcv_wnd)
{
    if (seg_len == 0) {
        if (rcv_wnd == 0) {
            return seq == rcv_nxt;
        }
        return seq_leq(rcv_nxt, seq) && seq_lt(seq, rcv_nxt + rcv_wnd);
    }
    if (rcv_wnd == 0) {
        return false;
    }
    const uint32_t last = seq + seg_len - 1;
    return (seq_leq(rcv_nxt, seq) && seq_lt(seq, rcv_nxt + rcv_wnd)) ||
           (seq_leq(rcv_nxt, last) && seq_lt(last, rcv_nxt + rcv_wnd));
}

} // namespace

void engine::send_challenge_ack(conn& c, rte_mbuf* m)
{
    // RFC 5961 3.2 / 4.2: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, at most
    // challenge_ack_per_s per lcore (RFC 5961 10, Linux tcp_challenge_ack_limit).
    if (!_challenge_limit.take(_now_ms)) {
        drop(m, ctr::challenge_ack_rate_limited);
        return;
    }
    _ctr.inc(ctr::challenge_acks);
    send_ack(c, m);
}

bool engine::sync_checks(conn& c, uint32_t slot, rte_mbuf*& m, const net::pkt_info& pi)
{
    const uint8_t f = pi.tcp_flags;
    const uint32_t rcv_wnd = uint32_t(rcv_window(c)) << (c.has(cf_ws_ok) ? c.rcv_wscale() : 0);

    // First: check the sequence number. "If a segment's contents straddle the
    // boundary between old and new, only the new parts are processed." An
    // unacceptable segment gets <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> unless
    // it is an RST, and is dropped.
    if (!acceptable(pi.seq, net::seg_len(pi), c.rcv_nxt, rcv_wnd)) {
        if (f & th_rst) {
            drop(m, ctr::rst_out_of_window);
        } else if (f & th_syn) {
            send_challenge_ack(c, m); // RFC 5961 4.2 "irrespective of the sequence number" (Linux too)
        } else {
            _ctr.inc(ctr::out_of_window);
            send_ack(c, m);
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
            _ctr.inc(ctr::rst_received);
            rte_pktmbuf_free(m);
            m = nullptr;
            post_event(c, event_type::reset, ECONNRESET);
            free_conn(c, slot);
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
    // "If the ACK acknowledges something not yet sent (SEG.ACK > SND.NXT),
    // then send an ACK, drop the segment, and return."
    if (seq_gt(pi.ack, c.snd_nxt)) {
        _ctr.inc(ctr::ack_too_new);
        send_ack(c, m);
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
    if (c.has(cf_ts_ok) && pi.opt_len != 0 && seq_leq(pi.seq, c.rcv_nxt)) {
        net::tcp_options o;
        net::parse_tcp_options(rte_pktmbuf_mtod(m, const uint8_t*) + pi.opt_off, pi.opt_len, false, o);
        if (o.has_ts && seq_geq(o.ts_val, c.ts_recent)) {
            c.ts_recent = o.ts_val;
        }
    }
    return true;
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
