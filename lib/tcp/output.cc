// Building and sending segments (VPP tcp_output.c): make_* fills a frame,
// send_* also transmits. Replies re-use the received mbuf whenever there is
// one (the SYN becomes its SYN-ACK, a data segment its ACK, a stray segment
// its RST): no allocation, MACs swapped. Segments nobody asked for
// (retransmissions, FINs and RSTs on command) get a new frame from the tx
// pool and go through the configured L2 hook.
#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "net/checksum.hh"
#include "net/tcp_hdr.hh"
#include "tcp/engine.hh"

namespace fg::tcp {

namespace {

// Options of a segment on a synchronized connection: timestamps only.
net::tcp_options ts_options(bool ts_ok, uint32_t tsval, uint32_t tsecr)
{
    net::tcp_options o;
    if (ts_ok) {
        o.has_ts = true;
        o.ts_val = tsval;
        o.ts_ecr = tsecr;
    }
    return o;
}

} // namespace

uint16_t engine::rcv_window(const conn& c) const
{
    // We consume (discard) everything we accept, so the window is always the
    // whole initial window, scaled as negotiated.
    const uint32_t w = _cfg.opts.rcv_wnd >> (c.has(cf_ws_ok) ? c.rcv_wscale() : 0);
    return uint16_t(std::min<uint32_t>(w, max_unscaled_window));
}

bool engine::reusable(rte_mbuf* m, uint32_t len)
{
    if (FG_UNLIKELY(m->nb_segs > 1)) {
        rte_pktmbuf_free(m->next); // headers are in the first segment; the rest is payload we drop
        m->next = nullptr;
        m->nb_segs = 1;
    }
    return RTE_MBUF_DIRECT(m) && rte_mbuf_refcnt_read(m) == 1 && uint32_t(m->buf_len) >= uint32_t(m->data_off) + len;
}

rte_mbuf* engine::frame_for(rte_mbuf* m, uint32_t len)
{
    if (m != nullptr) {
        if (FG_LIKELY(reusable(m, len))) {
            return m;
        }
        rte_pktmbuf_free(m); // shared or too small to write into: build afresh
    }
    rte_mbuf* f = _cfg.out->alloc();
    if (FG_UNLIKELY(f == nullptr)) {
        _ctr.inc(ctr::mbuf_alloc_failed);
    }
    return f;
}

void engine::transmit(rte_mbuf* m, uint32_t len, bool fresh, const tuple4& t)
{
    m->data_len = uint16_t(len);
    m->pkt_len = len;
    if (cksum() == net::cksum_mode::offload) {
        // The mbuf's second line: written only when the NIC reads it, whole
        // (a reused or stash frame may carry another use's lengths).
        m->tx_offload = rte_mbuf_tx_offload(sizeof(rte_ether_hdr), sizeof(rte_ipv4_hdr), 0, 0, 0, 0, 0);
        m->ol_flags = net::tcp_tx_offload_flags;
    } else {
        m->ol_flags = 0;
    }
    m->packet_type = 0;
    if (fresh && _cfg.l2_send != nullptr) {
        _cfg.l2_send(_cfg.l2_ctx, m, t);
        return;
    }
    _cfg.out->push(m);
}

void engine::send_segment(const tuple4& t, rte_mbuf* m, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t window,
                          const net::tcp_options* opts)
{
    const uint32_t len = net::tcp_segment_len(opts);
    if (m != nullptr && FG_LIKELY(reusable(m, len))) {
        // A reply in the received frame (a SYN's SYN-ACK, a segment's ACK),
        // back to where it came from: written in place.
        net::make_tcp_reply(rte_pktmbuf_mtod(m, uint8_t*), t, seq, ack, flags, window, opts, cksum());
        transmit(m, len, false, t);
        return;
    }
    rte_ether_addr src = _cfg.src_mac;
    rte_ether_addr dst = _cfg.dst_mac;
    bool fresh = true;
    if (m != nullptr) {
        // A reply in a new frame (the received one is shared or too small to
        // write into): back to where the received frame came from.
        const auto* eth = rte_pktmbuf_mtod(m, const rte_ether_hdr*);
        src = eth->dst_addr;
        dst = eth->src_addr;
        fresh = false;
        rte_pktmbuf_free(m);
    }
    m = frame_for(nullptr, len);
    if (FG_UNLIKELY(m == nullptr)) {
        return;
    }
    net::make_tcp_segment(rte_pktmbuf_mtod(m, uint8_t*), src, dst, t, seq, ack, flags, window, opts, cksum());
    transmit(m, len, fresh, t);
}

void engine::send_ack(const conn& c, rte_mbuf* m)
{
    const net::tcp_options o = ts_options(c.has(cf_ts_ok), tsval(c), c.ts_recent);
    send_segment(c.tuple, m, RTE_TCP_ACK_FLAG, c.snd_nxt, c.rcv_nxt, rcv_window(c), &o);
}

void engine::send_fin(conn& c, rte_mbuf* m)
{
    const net::tcp_options o = ts_options(c.has(cf_ts_ok), tsval(c), c.ts_recent);
    send_segment(c.tuple, m, RTE_TCP_FIN_FLAG | RTE_TCP_ACK_FLAG, c.snd_nxt, c.rcv_nxt, rcv_window(c), &o);
    c.snd_nxt++;
    _ctr.inc(ctr::fin_sent);
}

void engine::resend_fin(const conn& c)
{
    const net::tcp_options o = ts_options(c.has(cf_ts_ok), tsval(c), c.ts_recent);
    send_segment(c.tuple, nullptr, RTE_TCP_FIN_FLAG | RTE_TCP_ACK_FLAG, c.snd_nxt - 1, c.rcv_nxt, rcv_window(c),
                 &o);
}

void engine::send_rst(const conn& c, rte_mbuf* m, uint32_t seq)
{
    // Linux tcp_send_active_reset: RST+ACK, timestamps if negotiated.
    const net::tcp_options o = ts_options(c.has(cf_ts_ok), tsval(c), c.ts_recent);
    send_segment(c.tuple, m, RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG, seq, c.rcv_nxt, 0, &o);
    _ctr.inc(ctr::rst_sent);
}

void engine::send_synack(const conn& c, rte_mbuf* m)
{
    // Echo only what the SYN offered (negotiate_passive): the flags say so.
    net::tcp_options o;
    o.has_mss = true;
    o.mss = _cfg.opts.mss;
    o.has_wscale = c.has(cf_ws_ok);
    o.wscale = c.has(cf_ws_ok) ? c.rcv_wscale() : 0;
    o.sack_ok = c.has(cf_sack_ok);
    o.has_ts = c.has(cf_ts_ok);
    o.ts_val = o.has_ts ? tsval(c) : 0;
    o.ts_ecr = o.has_ts ? c.ts_recent : 0;
    send_segment(c.tuple, m, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG, c.iss, c.rcv_nxt, syn_window(_cfg.opts), &o);
}

void engine::send_reset_for(rte_mbuf* m, const net::pkt_info& pi, bool limited)
{
    if (FG_UNLIKELY((pi.tcp_flags & RTE_TCP_RST_FLAG) != 0)) {
        rte_pktmbuf_free(m); // never answer an RST with an RST (RFC 9293 3.10.7.1)
        return;
    }
    if (limited && !_rst_limit.take(_now_ms)) {
        drop(m, ctr::rst_rate_limited);
        return;
    }
    const auto* eth = rte_pktmbuf_mtod(m, const rte_ether_hdr*);
    const rte_ether_addr src = eth->dst_addr;
    const rte_ether_addr dst = eth->src_addr;
    const uint32_t len = net::tcp_segment_len(nullptr);
    m = frame_for(m, len);
    if (FG_UNLIKELY(m == nullptr)) {
        return;
    }
    net::make_tcp_reset_for(rte_pktmbuf_mtod(m, uint8_t*), pi, src, dst, cksum());
    _ctr.inc(ctr::rst_sent);
    transmit(m, len, false, pi.tuple);
}

} // namespace fg::tcp
