// The data path's output side (stream.hh): segments cut from templates,
// the windows that bound them, the FIN after the data, the retransmission
// timer (RFC 6298) and its estimator, zero-window probes, and the stream
// handle the apps call.
#include <algorithm>

#include <rte_tcp.h>

#include "net/tcp_hdr.hh"
#include "net/tcp_options.hh"
#include "tcp/connect.hh"

namespace fg::tcp {

namespace {

constexpr uint32_t ts_option_len = 12; // TCPOLEN_TSTAMP_ALIGNED: NOP NOP TS, on every segment when negotiated
constexpr uint32_t headers_len = 14 + 20 + 20;

net::tcp_options ts_opts(const conn& c, uint32_t tsval)
{
    net::tcp_options o;
    if (c.has(cf_ts_ok)) {
        o.has_ts = true;
        o.ts_val = tsval;
        o.ts_ecr = c.ts_recent;
    }
    return o;
}

} // namespace

// ---- the stream handle --------------------------------------------------------

bool stream::send(uint8_t id)
{
    const bool closing = (_x.xf & (xf_fin | xf_finish)) != 0 || _aborted;
    const bool other = _x.count != 0 && _x.tmpl != id;
    if (id == 0 || id > _e._cfg.n_templates || closing || other || _x.count == 255 ||
        uint64_t(_x.count + 1) * _e.tmpl(id).len >= (1u << 31)) {
        _e._ctr.inc(ctr::stream_send_refused);
        return false;
    }
    _x.tmpl = id; // with count 0, tstart is where the last instance ended: the new one starts there
    _x.count++;
    return true;
}

void stream::close() { _x.xf = uint8_t(_x.xf | xf_fin); }
void stream::abort() { _aborted = true; }
void stream::finish() { _x.xf = uint8_t(_x.xf | xf_finish); }
bool stream::passive() const { return _c.has(cf_passive); }
uint32_t stream::now_us() const { return _e.rtt_stamp(); }
uint32_t stream::now_ms() const { return _e._now_ms; }
uint32_t& stream::t0() { return _c.t0; }
uint32_t stream::bytes_queued() const { return _e.data_end(_x) - (_c.iss + 1); }
bool stream::closing() const { return (_x.xf & (xf_fin | xf_finish)) != 0 || _aborted; }

// ---- segments -------------------------------------------------------------------

uint16_t engine::smss(const conn& c) const
{
    // Linux tcp_current_mss: the negotiated MSS less the options every
    // segment carries; never more than a tx frame holds.
    const uint32_t opts = c.has(cf_ts_ok) ? ts_option_len : 0;
    uint32_t m = c.mss > opts ? c.mss - opts : 1;
    const uint32_t room = _frame_room > headers_len + opts ? _frame_room - headers_len - opts : 1;
    return uint16_t(std::max<uint32_t>(1, std::min(m, room)));
}

uint32_t engine::send_data_at(conn& c, const xfer& x, uint32_t seq, rte_mbuf* m)
{
    const uint32_t end = data_end(x);
    uint8_t flags = th_ack;
    uint32_t len = 0;
    if (seq_lt(seq, end)) {
        len = std::min<uint32_t>(smss(c), end - seq);
        const uint32_t tlen = tmpl(x.tmpl).len;
        if (fin_sent(c, x) && seq + len == end) {
            flags |= th_fin; // the FIN rides on the last data segment
        }
        if ((seq + len - x.tstart) % tlen == 0) {
            flags |= th_psh; // the end of an instance (Linux: PSH on a write's last segment)
        }
    } else {
        flags |= th_fin; // seq is the FIN's own
    }
    const net::tcp_options o = ts_opts(c, tsval(c));
    const uint32_t hdr = net::tcp_segment_len(&o);
    rte_ether_addr src = _cfg.src_mac;
    rte_ether_addr dst = _cfg.dst_mac;
    bool fresh = true;
    if (m != nullptr) {
        const auto* eth = rte_pktmbuf_mtod(m, const rte_ether_hdr*);
        src = eth->dst_addr; // a reply: back where the received frame came from
        dst = eth->src_addr;
        fresh = false;
    }
    rte_mbuf* f = frame_for(m, hdr + len);
    if (FG_UNLIKELY(f == nullptr)) {
        return 0; // counted (mbuf_alloc_failed); the retransmission timer sends it later
    }
    uint8_t* buf = rte_pktmbuf_mtod(f, uint8_t*);
    if (len != 0) {
        // The payload, straight from the template: byte b of the stream is
        // byte (b - tstart) % len of the template (instances follow each other).
        const tx_template& t = tmpl(x.tmpl);
        uint32_t at = (seq - x.tstart) % t.len;
        uint32_t done = 0;
        while (done < len) {
            const uint32_t n = std::min(len - done, t.len - at);
            std::memcpy(buf + hdr + done, t.data + at, n);
            done += n;
            at = 0;
        }
    }
    net::make_tcp_segment(buf, src, dst, c.tuple, seq, c.rcv_nxt, flags, rcv_window(c), &o, cksum(), len);
    transmit(f, hdr + len, fresh, c.tuple);
    return len;
}

uint32_t engine::push_data(conn& c, uint32_t slot, xfer& x, rte_mbuf*& m)
{
    const uint32_t end = data_end(x);
    const uint32_t mss = smss(c);
    const uint32_t wnd = uint32_t(c.snd_wnd) << (c.has(cf_ws_ok) ? c.snd_wscale() : 0);
    const uint32_t lim = std::min(wnd, uint32_t(x.cwnd) * mss); // RFC 5681: min(cwnd, rwnd)
    const bool was_idle = c.snd_una == c.snd_nxt;
    uint32_t sent = 0;
    auto fin_out = [&] {
        // The FIN leaves: CLOSE in ESTABLISHED -> FIN-WAIT-1, in CLOSE-WAIT -> LAST-ACK (3.10.4).
        c.set(cf_app_closed);
        if (c.st == state::established) {
            c.st = state::fin_wait_1;
        } else if (c.st == state::close_wait) {
            c.st = state::last_ack;
        }
        _ctr.inc(ctr::fin_sent);
    };
    while (seq_lt(c.snd_nxt, end)) {
        const uint32_t flight = c.snd_nxt - c.snd_una;
        if (flight >= lim) {
            break;
        }
        const uint32_t left = end - c.snd_nxt;
        const uint32_t len = std::min({mss, left, lim - flight});
        // Sender SWS avoidance (RFC 9293 3.8.6.2.1): no runt segment while
        // more is waiting and something is in flight to open the window.
        if (len < mss && len < left && flight != 0) {
            break;
        }
        const uint32_t seq = c.snd_nxt;
        c.snd_nxt += len;
        if ((x.xf & xf_fin) && c.snd_nxt == end) {
            c.snd_nxt++;
            fin_out();
        }
        send_data_at(c, x, seq, m);
        m = nullptr;
        sent++;
        _ctr.inc(ctr::data_segments_sent);
        _ctr.add(ctr::data_bytes_sent, len);
    }
    // A FIN asked for after the data went out (or with none): it needs no window.
    if ((x.xf & xf_fin) && c.snd_nxt == end) {
        c.snd_nxt++;
        fin_out();
        send_data_at(c, x, end, m);
        m = nullptr;
        sent++;
    }
    if (sent != 0) {
        if (was_idle) {
            if (!c.has(cf_ts_ok)) {
                x.xf = uint8_t(x.xf | xf_timing); // time this flight (Karn: dropped if any of it is resent)
                c.t0 = rtt_stamp();
            }
            arm_stream(c, slot, x); // RFC 6298 5.1: the timer runs while data is in flight
        } else {
            x.xf = uint8_t(x.xf & ~xf_timing); // a flight that grew would time more than one RTT
        }
    }
    return sent;
}

// ---- the retransmission timer ---------------------------------------------------

void engine::rtt_sample(xfer& x, uint32_t us)
{
    // RFC 6298 2.2 / 2.3 in 1/8 ms units (alpha 1/8, beta 1/4).
    const uint32_t r = uint32_t(std::min<uint64_t>(uint64_t(us) * 8 / 1000, UINT16_MAX));
    if (!(x.xf & xf_rtt)) {
        x.srtt8 = uint16_t(r);
        x.rttvar8 = uint16_t(r / 2);
        x.xf = uint8_t(x.xf | xf_rtt);
        return;
    }
    const uint32_t delta = x.srtt8 > r ? x.srtt8 - r : r - x.srtt8;
    x.rttvar8 = uint16_t((3u * x.rttvar8 + delta) / 4);
    x.srtt8 = uint16_t((7u * x.srtt8 + r) / 8);
}

uint32_t engine::rto_ms(const xfer& x) const
{
    if (!(x.xf & xf_rtt)) {
        return _cfg.rto_initial_ms; // RFC 6298 2.1: 1 s before any measurement
    }
    // RFC 6298 2.3: RTO = SRTT + max(G, K * RTTVAR), with Linux's floor
    // (tcp_rto_min, 200 ms) where the RFC has the clock granularity G.
    const uint32_t rto8 = x.srtt8 + std::max(_cfg.rto_min_ms * 8, 4u * x.rttvar8);
    return std::clamp(rto8 / 8, _cfg.rto_min_ms, _cfg.rto_max_ms);
}

void engine::arm_stream(conn& c, uint32_t slot, xfer& x)
{
    const bool in_flight = c.snd_una != c.snd_nxt;
    const bool blocked = !in_flight && seq_lt(c.snd_nxt, data_end(x)); // data waits for a zero window
    uint32_t t = stream_app::no_deadline;
    if (in_flight || blocked) {
        // RFC 6298 5.5: doubled on every expiry without progress, up to rto_max.
        const uint64_t b = uint64_t(rto_ms(x)) << std::min<uint32_t>(c.retries, 31);
        t = uint32_t(std::min<uint64_t>(b, _cfg.rto_max_ms));
    }
    if ((x.xf & xf_on) && !(x.xf & xf_ended)) {
        stream s(*this, c, slot, x);
        t = std::min(t, app_of(c)->deadline_ms(s));
    }
    if (t == stream_app::no_deadline) {
        _wheel.cancel(slot);
        return;
    }
    const uint32_t when = _now_ms + t;
    if (_wheel.armed(slot) && _wheel.expire_ms(slot) == when) {
        return;
    }
    _wheel.arm(slot, when);
}

void engine::on_stream_timer(conn& c, uint32_t slot)
{
    xfer& x = _xfer[slot];
    stream s(*this, c, slot, x);
    stream_app* app = app_of(c);
    if (app->deadline_ms(s) == 0) {
        app->on_deadline(s); // e.g. a response that did not come in time
        if (s._aborted || (x.xf & (xf_fin | xf_finish)) || !(x.xf & xf_on)) {
            settle(s, nullptr, false);
            return;
        }
    }
    const bool in_flight = c.snd_una != c.snd_nxt;
    const bool blocked = !in_flight && seq_lt(c.snd_nxt, data_end(x));
    if (in_flight || blocked) {
        if (c.retries >= _cfg.data_retries) {
            // Linux tcp_write_timeout: give up, without a segment.
            _ctr.inc(ctr::data_timeouts);
            end_stream(c, slot, stream_end::timeout);
            free_conn(c, slot);
            return;
        }
        c.retries++;
        if (in_flight) {
            // RFC 6298 5.4: "Retransmit the earliest segment that has not been
            // acknowledged"; RFC 5681 3.1: the window falls to one segment.
            _ctr.inc(ctr::rto_expired);
            _ctr.inc(ctr::data_retransmits);
            x.cwnd = 1;
            x.xf = uint8_t((x.xf | xf_recover) & ~xf_timing);
            send_data_at(c, x, c.snd_una, nullptr);
        } else {
            // Zero window: Linux tcp_send_probe0 -> <SEQ=SND.UNA-1><ACK>, which
            // the peer must answer with its window.
            _ctr.inc(ctr::window_probes);
            const net::tcp_options o = ts_opts(c, tsval(c));
            send_segment(c.tuple, nullptr, th_ack, c.snd_una - 1, c.rcv_nxt, rcv_window(c), &o);
        }
    }
    arm_stream(c, slot, x); // RFC 6298 5.5/5.6 backoff, or the app's next deadline
}

} // namespace fg::tcp
