// The data path's input side (stream.hh): set-up of a stream when a
// connection an app serves reaches ESTABLISHED, and segments on it -- the
// synchronized-state checks of established.cc (RFC 9293 3.10.7.4 first to
// fifth), then ACK processing for our data, our FIN, the segment text
// (seventh: in order to the app, beyond RCV.NXT dropped, before it a
// duplicate) and the peer's FIN (eighth), then the app's answer (settle()).
//
// A stream ends -- its app's on_end(), the last callback -- when the
// connection is reset, times out, is aborted, when our FIN is ACKed with all
// our data (FIN-WAIT-2, TIME-WAIT or CLOSED follow on the ordinary handlers
// of active_close.cc), or when a generator connection finishes its exchange
// and its close mode takes over. From then on the connection is an ordinary
// one: the stream flag is cleared.
#include <algorithm>
#include <cerrno>

#include "net/tcp_options.hh"
#include "tcp/connect.hh"

namespace fg::tcp {

bool engine::init_data(std::string& error)
{
    if (_cfg.active_app == nullptr && _cfg.passive_app == nullptr) {
        return true; // handshakes only: no xfer blocks, nothing to pay
    }
    if (_cfg.n_templates > 255 || (_cfg.n_templates != 0 && _cfg.templates == nullptr)) {
        error = "tcp engine: at most 255 templates, and a table for them";
        return false;
    }
    for (uint32_t i = 0; i < _cfg.n_templates; i++) {
        const tx_template& t = _cfg.templates[i];
        if (t.data == nullptr || t.len == 0 || t.len >= (1u << 31)) {
            error = "tcp engine: template " + std::to_string(i + 1) + " is empty or 2 GiB or more";
            return false;
        }
    }
    if (_cfg.init_cwnd == 0 || _cfg.rto_min_ms == 0 || _cfg.rto_min_ms > _cfg.rto_max_ms || _cfg.data_retries == 0) {
        error = "tcp engine: data path needs init_cwnd > 0, 0 < rto_min_ms <= rto_max_ms, data_retries > 0";
        return false;
    }
    _xfer_mem = alloc_huge(std::size_t(_cfg.capacity) * sizeof(xfer), false);
    if (_xfer_mem.ptr == nullptr) {
        error = "tcp engine: no memory for the data path's per-connection blocks";
        return false;
    }
    _xfer = static_cast<xfer*>(_xfer_mem.ptr); // anonymous memory: zero, no stream anywhere
    if (_cfg.populate) {
        std::memset(_xfer_mem.ptr, 0, _xfer_mem.bytes); // fault it in now, as the pool does
    }
    const uint32_t room = rte_pktmbuf_data_room_size(_cfg.out->pool);
    _frame_room = room > RTE_PKTMBUF_HEADROOM ? room - RTE_PKTMBUF_HEADROOM : 0;
    return true;
}

void engine::fini_data()
{
    free_huge(_xfer_mem);
    _xfer = nullptr;
}

bool engine::serve_accepted(const listener& l, conn& c, uint32_t slot, uint32_t rtt_us, rte_mbuf* m,
                            const net::pkt_info& pi)
{
    if (l.options().on_accept != accept_action::serve || _cfg.passive_app == nullptr) {
        return false;
    }
    open_stream(c, slot, rtt_us, m, &pi);
    return true;
}

void engine::open_stream(conn& c, uint32_t slot, uint32_t rtt_us, rte_mbuf* m, const net::pkt_info* pi)
{
    xfer& x = _xfer[slot];
    x = xfer{};
    x.xf = xf_on;
    x.tstart = c.snd_nxt;
    x.cwnd = _cfg.init_cwnd;
    c.retries = 0;
    c.t0 = rtt_stamp();
    if (rtt_us != 0) {
        rtt_sample(x, rtt_us); // Linux takes its first RTT from the handshake too
    }
    _ctr.inc(ctr::streams_opened);
    stream s(*this, c, slot, x);
    app_of(c)->on_open(s);
    if (pi != nullptr && !s._aborted && (pi->payload_len != 0 || (pi->tcp_flags & th_fin))) {
        // The third ACK (or a cookie ACK) carries the request, maybe a FIN.
        stream_segment(s, m, *pi);
        return;
    }
    // Active side: m is the SYN-ACK; our first segment or an ACK answers it.
    settle(s, m, m != nullptr && pi == nullptr);
}

void engine::on_stream(conn& c, uint32_t slot, rte_mbuf* m, const net::pkt_info& pi)
{
    xfer& x = _xfer[slot];
    // An RST at exactly RCV.NXT resets the connection in sync_checks(): the
    // app hears it first.
    if ((pi.tcp_flags & th_rst) && pi.seq == c.rcv_nxt) {
        end_stream(c, slot, stream_end::reset);
    }
    const uint32_t una0 = c.snd_una;
    if (!sync_checks(c, slot, m, pi)) {
        return;
    }
    stream s(*this, c, slot, x);
    stream_acked(s, una0, m, pi);
    if (s._aborted) {
        settle(s, m, false);
        return;
    }

    // Our FIN, if sent, is ACKed when SND.UNA reaches SND.NXT: the stream is
    // over (all our data is ACKed before it); the ordinary handlers finish.
    if (fin_sent(c, x) && c.snd_una == c.snd_nxt) {
        end_stream(c, slot, stream_end::closed);
        switch (c.st) {
        case state::fin_wait_1:
            // "if the FIN segment is now acknowledged, then enter FIN-WAIT-2
            // and continue processing in that state"
            c.st = state::fin_wait_2;
            c.retries = 0;
            arm(slot, _active->cfg.fin_timeout_ms);
            if (data_and_fin(c, m, pi)) {
                enter_time_wait(c, slot);
            }
            return;
        case state::closing:
            // "if the ACK acknowledges our FIN, then enter the TIME-WAIT state"
            enter_time_wait(c, slot);
            data_and_fin(c, m, pi);
            return;
        case state::last_ack:
            // "If our FIN is now acknowledged, delete the TCB, enter the CLOSED state"
            rte_pktmbuf_free(m);
            _ctr.inc(ctr::closed);
            post_event(c, event_type::closed);
            free_conn(c, slot);
            return;
        default:
            break;
        }
    }
    stream_segment(s, m, pi);
}

void engine::stream_segment(stream& s, rte_mbuf* m, const net::pkt_info& pi)
{
    conn& c = s._c;
    bool need_ack = false;
    // Seventh: the segment text.
    if (pi.payload_len != 0) {
        need_ack = true;
        if (c.has(cf_fin_rcvd)) {
            _ctr.inc(ctr::rx_after_fin); // RFC 9293 3.10.7.4: ignored after the FIN
        } else if (seq_gt(pi.seq, c.rcv_nxt)) {
            // Beyond RCV.NXT: no reassembly queue here. Dropped; the duplicate
            // ACK tells the peer where we are and it sends again.
            _ctr.inc(ctr::rx_out_of_order);
        } else if (seq_leq(pi.seq + pi.payload_len, c.rcv_nxt)) {
            _ctr.inc(ctr::out_of_window); // all old: the first step already ACKs and drops these
        } else {
            deliver(s, m, pi);
            if (s._aborted) {
                settle(s, m, false);
                return;
            }
        }
    }
    // Eighth: the FIN, if it comes right after everything received.
    if (pi.tcp_flags & th_fin) {
        need_ack = true;
        if (!c.has(cf_fin_rcvd) && pi.seq + pi.payload_len == c.rcv_nxt) {
            c.rcv_nxt++;
            c.set(cf_fin_rcvd);
            _ctr.inc(ctr::fin_received);
            if (c.st == state::established) {
                c.st = state::close_wait; // "Enter the CLOSE-WAIT state"
            } else if (c.st == state::fin_wait_1) {
                c.st = state::closing; // our FIN is not ACKed yet (else the stream was over)
            }
            app_of(c)->on_peer_fin(s);
        }
    }
    settle(s, m, need_ack);
}

void engine::deliver(stream& s, rte_mbuf* m, const net::pkt_info& pi)
{
    conn& c = s._c;
    const uint32_t skip = c.rcv_nxt - pi.seq; // bytes of it we have already
    uint32_t want = pi.payload_len - skip;
    uint32_t off = uint32_t(pi.l2_len) + pi.l3_len + pi.l4_len + skip;
    uint32_t got = 0;
    stream_app* app = app_of(c);
    // The payload may span the segments of a chained mbuf: in pieces.
    for (const rte_mbuf* seg = m; seg != nullptr && want != 0; seg = seg->next) {
        if (off >= seg->data_len) {
            off -= seg->data_len;
            continue;
        }
        const uint32_t n = std::min<uint32_t>(want, seg->data_len - off);
        const uint32_t used = app->on_data(s, rte_pktmbuf_mtod_offset(seg, const uint8_t*, off), n);
        got += used;
        want -= used;
        off = 0;
        if (used < n || s._aborted) {
            break;
        }
    }
    c.rcv_nxt += got;
    _ctr.add(ctr::rx_bytes_delivered, got);
    if (want != 0) {
        _ctr.add(ctr::rx_bytes_deferred, want);
    }
}

void engine::stream_acked(stream& s, uint32_t una0, rte_mbuf* m, const net::pkt_info& pi)
{
    conn& c = s._c;
    xfer& x = s._x;
    const uint32_t slot = s._slot;
    if (!seq_gt(c.snd_una, una0)) {
        return; // nothing new ACKed: a duplicate ACK or a window update
    }
    // Instances wholly ACKed leave the queue.
    if (x.count != 0) {
        const uint32_t len = tmpl(x.tmpl).len;
        while (x.count != 0 && seq_geq(c.snd_una, x.tstart + len)) {
            x.tstart += len;
            x.count--;
        }
        if (x.count == 0 && !(x.xf & xf_ended)) {
            app_of(c)->on_drained(s);
        }
    }
    // RTT sample (RFC 6298 3, Karn). With timestamps, the TSecr of an ACK
    // that advances SND.UNA (RFC 7323 4.1); otherwise the timed flight,
    // when all of it is ACKed and none of it was sent twice.
    if (c.has(cf_ts_ok)) {
        net::tcp_options o;
        if (pi.opt_len != 0) {
            net::parse_tcp_options(rte_pktmbuf_mtod(m, const uint8_t*) + pi.opt_off, pi.opt_len, false, o);
        }
        const uint32_t age = tsval(c) - o.ts_ecr;
        if (o.has_ts && o.ts_ecr != 0 && age < 60000) {
            rtt_sample(x, age * 1000u);
        }
    } else if ((x.xf & xf_timing) && c.snd_una == c.snd_nxt) {
        rtt_sample(x, rtt_stamp() - c.t0);
        x.xf = uint8_t(x.xf & ~xf_timing);
    }
    c.retries = 0; // progress: the backoff starts over
    if (x.cwnd < _cfg.init_cwnd) {
        x.cwnd++; // RFC 5681 slow start after an RTO, up to the initial window again
    }
    if (x.xf & xf_recover) {
        if (c.snd_una == c.snd_nxt) {
            x.xf = uint8_t(x.xf & ~xf_recover);
        } else {
            // A partial ACK: the next hole is at SND.UNA (RFC 6582 3.2 step 5).
            _ctr.inc(ctr::partial_ack_retransmits);
            _ctr.inc(ctr::data_retransmits);
            send_data_at(c, x, c.snd_una, nullptr);
        }
    }
    arm_stream(c, slot, x); // RFC 6298 5.2 / 5.3: stop, or restart for what is left
}

void engine::settle(stream& s, rte_mbuf* m, bool need_ack)
{
    conn& c = s._c;
    xfer& x = s._x;
    const uint32_t slot = s._slot;
    if (s._aborted) {
        // ABORT (3.10.5): RST <SEQ=SND.NXT> (Linux tcp_send_active_reset), free.
        end_stream(c, slot, stream_end::aborted);
        send_rst(c, m, c.snd_nxt);
        _ctr.inc(ctr::aborted);
        free_conn(c, slot);
        return;
    }
    if ((x.xf & xf_finish) && !(x.xf & xf_fin) && c.snd_una == data_end(x) && c.snd_nxt == c.snd_una) {
        // The exchange is over and all of it ACKed: the connection goes back
        // to the local application that opened it (the generator's close
        // mode), as an `established` event -- ev_peer_closed if the peer
        // already closed (its response said Connection: close).
        end_stream(c, slot, stream_end::finished);
        if (m != nullptr) {
            if (need_ack && !_sink_closes) {
                _ctr.inc(ctr::acks_sent);
                send_ack(c, m);
            } else {
                rte_pktmbuf_free(m); // the RST or FIN the app sends now acknowledges everything
            }
        }
        post_active(c, event_type::established, 0, 0);
        return;
    }
    push_data(c, slot, x, m);
    if (m != nullptr) {
        if (need_ack) {
            _ctr.inc(ctr::acks_sent);
            send_ack(c, m);
        } else {
            rte_pktmbuf_free(m);
        }
    }
    if (c.snd_una == c.snd_nxt) {
        arm_stream(c, slot, x); // nothing in flight: the app's deadline may have moved
    }
}

void engine::end_stream(conn& c, uint32_t slot, stream_end why)
{
    xfer& x = _xfer[slot];
    if (!(x.xf & xf_on) || (x.xf & xf_ended)) {
        return;
    }
    x.xf = uint8_t(x.xf | xf_ended);
    stream s(*this, c, slot, x);
    app_of(c)->on_end(s, why);
    x.xf = uint8_t(x.xf & ~xf_on); // an ordinary connection from now on
    _wheel.cancel(slot);           // the stream's RTO or app deadline; the ordinary code arms its own
    if ((c.spare & af_local) && why != stream_end::finished) {
        // The local application that opened it hears how it ended (once:
        // later events of the same end are not posted again).
        static constexpr event_type type[] = {event_type::closed, event_type::reset, event_type::closed,
                                              event_type::closed, event_type::established};
        static constexpr int32_t err[] = {0, ECONNRESET, ETIMEDOUT, ECONNABORTED, 0};
        post_active(c, type[unsigned(why)], err[unsigned(why)]);
    }
}

} // namespace fg::tcp
