// The per-lcore polling loop and its packet handlers (see stack.hh).
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include "base/log.hh"
#include "core/stack.hh"
#include "net/arp.hh"
#include "net/ether.hh"
#include "net/icmp.hh"

namespace fg::core {

namespace {
// A frame the TCP engine built could not be sent (no route, neighbour
// unreachable): the engine ends a SYN's connection with `unreachable`.
void l2_failed(lcore& c, rte_mbuf* m)
{
    c.tcp.l2_failed(m);
}

// The tx batch's own tallies into the lcore's counters (readers see them
// between iterations and after the end).
void publish_tx(lcore& c)
{
    c.ctr.v[unsigned(ctr::tx_packets)] = c.out.sent;
    c.ctr.v[unsigned(ctr::tx_dropped)] = c.out.dropped;
    c.ctr.v[unsigned(ctr::tx_deferred)] = c.out.deferred;
}

} // namespace

lcore* stack::lcore_begin(unsigned lcore_id)
{
    if (lcore_id >= _lcore_to_idx.size() || _lcore_to_idx[lcore_id] < 0) {
        FG_LOG(ERR, "stack %s: lcore %u is not one of its lcores", _cfg.name.c_str(), lcore_id);
        return nullptr;
    }
    lcore& c = *_lcores[_lcore_to_idx[lcore_id]];
    _listeners.register_reader(c.idx);
    c.clock.start();
    c.now_ms = 0;
    c.next_resolve_ms = 0;
    c.drain_tsc = (tsc_hz() + 999999) / 1000000 * drain_us;
    c.last_drain = now_tsc();
    c.rx_data_at = frame_offset(c.out.pool);
    c.running = true;
    if (_cfg.gratuitous_arp && c.idx == 0) {
        send_garps(c);
    }
    return &c;
}

void stack::lcore_end(lcore& c)
{
    c.out.flush();
    c.out.release_stash();
    publish_tx(c);
    _listeners.unregister_reader(c.idx);
    c.running = false;
}

// One iteration: poll, then on the TSC drain deadline flush partial tx
// batches and run the timers once per millisecond.
FG_ALWAYS_INLINE void stack::lcore_step(lcore& c)
{
    const uint64_t now = now_tsc(); // one TSC read per iteration (the generator's clock too)
    poll_once(c, now);
    if (FG_UNLIKELY(now - c.last_drain > c.drain_tsc)) {
        c.out.flush();
        c.last_drain = now;
        const uint32_t ms = c.clock.ms(now);
        if (ms != c.now_ms) {
            c.now_ms = ms;
            timers(c);
        }
    }
}

int stack::run_lcore(unsigned lcore_id)
{
    lcore* c = lcore_begin(lcore_id);
    if (c == nullptr) {
        return -1;
    }
    while (!stopping()) {
        lcore_step(*c);
    }
    lcore_end(*c);
    return 0;
}

int stack::run_shared_lcore(const std::vector<stack*>& stacks, unsigned lcore_id)
{
    if (stacks.size() == 1) {
        return stacks[0]->run_lcore(lcore_id);
    }
    std::vector<std::pair<stack*, lcore*>> mine;
    for (stack* st : stacks) {
        lcore* c = st->lcore_begin(lcore_id);
        if (c == nullptr) {
            for (auto& [s, l] : mine) {
                s->lcore_end(*l);
            }
            return -1;
        }
        mine.emplace_back(st, c);
    }
    bool running = true;
    while (running) {
        running = false;
        for (auto& [s, l] : mine) {
            if (!s->stopping()) {
                s->lcore_step(*l);
                running = true;
            }
        }
    }
    for (auto& [s, l] : mine) {
        s->lcore_end(*l);
    }
    return 0;
}

void stack::step(uint16_t idx)
{
    lcore& c = *_lcores[idx];
    if (!c.running) {
        lcore_begin(c.lcore_id);
    }
    lcore_step(c);
}

void stack::finish(uint16_t idx)
{
    lcore& c = *_lcores[idx];
    if (c.running) {
        lcore_end(c);
    }
}

void stack::poll_once(lcore& c, uint64_t now)
{
    rte_mbuf* pkts[rx_burst];
    bool busy = false;
    uint16_t n;
    // Segments other lcores forwarded first: they arrived before anything
    // still in our rx queue, and a peer may send one flow's segments on two
    // queues (Linux re-picks a tx queue when nothing is in flight), so this
    // keeps the flow in order as far as we can see it.
    if (_sw_steering) {
        n = uint16_t(rte_ring_sc_dequeue_burst(c.redirect, reinterpret_cast<void**>(pkts), rx_burst, nullptr));
        if (n > 0) {
            busy = true;
            c.ctr.inc(ctr::redirected_in, n);
            handle_burst(c, pkts, n);
        }
    }
    n = rte_eth_rx_burst(_cfg.port_id, c.idx, pkts, rx_burst);
    if (n > 0) {
        busy = true;
        c.ctr.inc(ctr::rx_packets, n);
        handle_burst(c, pkts, n);
    }
    // Backpressure: while the port refuses frames (a full tx queue: they wait
    // in the backlog), retry it every iteration, and the generator opens
    // nothing new -- its SYNs would only queue behind, or be lost.
    if (FG_UNLIKELY(c.out.backlogged())) {
        c.out.flush();
    }
    if (c.gen && !c.out.backlogged() && c.out.dropped == c.gen_seen_drops) {
        if (c.gen->poll(uint64_t(double(now) * _ns_per_tsc)) != 0) {
            busy = true;
        }
    }
    c.gen_seen_drops = c.out.dropped;
    // As many commands per poll as frames (8 before: an application thread
    // closing every accepted connection found the ring full ~3 times per
    // command in bench-e2e-handshake (a2) and the accept ring overflowed).
    command cmds[rx_burst];
    const unsigned nc = rte_ring_sc_dequeue_burst_elem(c.commands, cmds, sizeof(command), rx_burst, nullptr);
    for (unsigned i = 0; i < nc; i++) {
        busy = true;
        handle_command(c, cmds[i]);
    }
    c.ctr.inc(ctr::loops);
    if (busy) {
        c.ctr.inc(ctr::busy_loops);
    }
    _listeners.quiescent(c.idx);
    publish_tx(c);
}

// Classify a burst; ARP and ICMP are answered one by one, TCP segments this
// lcore owns are gathered and handed to the engine together (one batched
// table lookup with prefetch for the whole burst).
void stack::handle_burst(lcore& c, rte_mbuf** pkts, uint16_t n)
{
    rte_mbuf* seg[rx_burst];
    net::pkt_info info[rx_burst];
    uint16_t nseg = 0;
    // Received frames prefetched for writing (base/pktio.hh prefetch_frame):
    // most are answered in place (SYN -> SYN-ACK, SYN-ACK -> ACK, a segment ->
    // RST) by rewriting lengths, flags and headers; a frame freed instead has
    // its next pointer read in mbuf line 1. Two data lines: a TCP header with
    // options (Ethernet 14 + IP 20 + TCP 20-60) ends past the first 64 bytes,
    // and the classifier sums it all.
    for (uint16_t i = 0; i < n && i < rx_prefetch_ahead; i++) {
        prefetch_frame(pkts[i], c.rx_data_at);
    }
    for (uint16_t i = 0; i < n; i++) {
        if (i + rx_prefetch_ahead < n) {
            prefetch_frame(pkts[i + rx_prefetch_ahead], c.rx_data_at);
        }
        rte_mbuf* m = pkts[i];
        c.ctr.inc(ctr::rx_bytes, rte_pktmbuf_pkt_len(m));
        if (FG_UNLIKELY(rte_pktmbuf_pkt_len(m) > _max_frame)) {
            // A NIC drops these itself; taps and af_packet ports hand them over.
            c.ctr.inc(ctr::oversize);
            rte_pktmbuf_free(m);
            continue;
        }
        net::pkt_info& pi = info[nseg];
        net::drop why;
        const net::pkt_kind kind =
            net::classify(rte_pktmbuf_mtod(m, const uint8_t*), rte_pktmbuf_data_len(m), m->ol_flags, pi, why);
        if (FG_LIKELY(kind == net::pkt_kind::tcp)) {
            if (accept_tcp(c, m, pi)) {
                seg[nseg++] = m;
            }
            continue;
        }
        switch (kind) {
        case net::pkt_kind::arp:
            handle_arp(c, m, pi);
            break;
        case net::pkt_kind::icmp_echo:
            handle_icmp(c, m, pi);
            break;
        default:
            c.ctr.drops[unsigned(why)]++;
            rte_pktmbuf_free(m);
            break;
        }
    }
    if (nseg > 0) {
        c.ctr.inc(ctr::tcp_in, nseg);
        c.tcp.input_burst(seg, info, nseg);
    }
}

// Linux ip_rcv_core (a frame to another host's MAC), ip_route_input_slow /
// fib_validate_source (addresses) and tcp_v4_rcv (TCP only in frames to our
// own MAC): true if the IPv4 packet is for us, else counted and freed.
bool stack::admit_ip(lcore& c, rte_mbuf* m, const net::pkt_info& pi, bool tcp)
{
    const rte_ether_addr& dmac = net::eth_hdr(rte_pktmbuf_mtod(m, uint8_t*))->dst_addr;
    if (FG_UNLIKELY(!rte_is_same_ether_addr(&dmac, &_mac))) {
        if (!rte_is_multicast_ether_addr(&dmac)) { // broadcast is a multicast address too
            c.ctr.inc(ctr::l2_otherhost);
            rte_pktmbuf_free(m);
            return false;
        }
        if (tcp) {
            c.ctr.inc(ctr::l2_not_unicast);
            rte_pktmbuf_free(m);
            return false;
        }
    }
    using admit = route::iface_addrs::admit;
    const admit a = _addrs->admit_ipv4(pi.src_ip, pi.dst_ip);
    if (FG_LIKELY(a == admit::local)) {
        return true;
    }
    c.ctr.inc(a == admit::martian_src ? ctr::martian_src : a == admit::to_broadcast ? ctr::to_broadcast : ctr::not_local);
    rte_pktmbuf_free(m);
    return false;
}

bool stack::accept_tcp(lcore& c, rte_mbuf* m, const net::pkt_info& pi)
{
    if (FG_UNLIKELY(!admit_ip(c, m, pi, true))) {
        return false;
    }
    if (_sw_steering) {
        const uint16_t owner = _steer.owner(pi.tuple);
        if (owner != c.idx) {
            // The checksums were verified here: the owner need not do it again.
            m->ol_flags = (m->ol_flags & ~(RTE_MBUF_F_RX_IP_CKSUM_MASK | RTE_MBUF_F_RX_L4_CKSUM_MASK)) |
                          RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_GOOD;
            if (rte_ring_mp_enqueue(_lcores[owner]->redirect, m) != 0) {
                c.ctr.inc(ctr::redirect_dropped);
                rte_pktmbuf_free(m);
            } else {
                c.ctr.inc(ctr::redirected);
            }
            return false;
        }
    }
    return true;
}

// Frames the TCP engine builds from scratch (SYN, retransmissions, FIN and
// RST on command): route, source MAC, neighbour -- or wait for ARP.
void stack::l2_send(void* ctx, rte_mbuf* m, const tuple4& t)
{
    lcore& c = *static_cast<lcore*>(ctx);
    stack& st = *c.st;
    const route::route_result r = c.routes->lookup(*st._routes, t.raddr, t.laddr);
    if (FG_UNLIKELY(!r.ok())) {
        c.ctr.inc(ctr::neigh_queue_dropped);
        l2_failed(c, m);
        return;
    }
    auto* eth = net::eth_hdr(rte_pktmbuf_mtod(m, uint8_t*));
    eth->src_addr = st._mac;
    if (const rte_ether_addr* mac = c.neigh->usable_mac(r.next_hop, c.now_ms); FG_LIKELY(mac != nullptr)) {
        eth->dst_addr = *mac;
        c.out.push(m);
        return;
    }
    const route::resolve_result rr = c.neigh->resolve(r.next_hop, m, c.now_ms);
    switch (rr.action) {
    case route::neigh_action::mac_known:
        eth->dst_addr = rr.mac;
        c.out.push(m);
        return;
    case route::neigh_action::mac_known_send_request:
        eth->dst_addr = rr.mac;
        c.out.push(m);
        st.send_arp_request(c, r.next_hop);
        return;
    case route::neigh_action::queued_send_request:
        st.send_arp_request(c, r.next_hop);
        return;
    case route::neigh_action::queued:
        return;
    case route::neigh_action::queued_dropped_oldest:
        c.ctr.inc(ctr::neigh_queue_dropped);
        rte_pktmbuf_free(static_cast<rte_mbuf*>(rr.drop));
        return;
    case route::neigh_action::failed:
    case route::neigh_action::table_full:
        c.ctr.inc(ctr::neigh_queue_dropped);
        l2_failed(c, m);
        return;
    }
}

void stack::handle_icmp(lcore& c, rte_mbuf* m, const net::pkt_info& pi)
{
    // Echo requests to a broadcast address are ignored, as Linux's default
    // icmp_echo_ignore_broadcasts = 1 does.
    if (!admit_ip(c, m, pi, false)) {
        return;
    }
    uint8_t* data = rte_pktmbuf_mtod(m, uint8_t*);
    const uint32_t len = net::make_icmp_echo_reply_inplace(data, rte_pktmbuf_data_len(m), pi);
    m->data_len = uint16_t(len);
    m->pkt_len = len;
    m->ol_flags = 0;
    c.ctr.inc(ctr::icmp_echo_replies);
    c.out.push(m);
}

void stack::handle_arp(lcore& c, rte_mbuf* m, const net::pkt_info& pi)
{
    c.ctr.inc(ctr::arp_in);
    const bool for_us = _addrs->is_local(pi.arp_tip);
    route::arp_kind kind = route::arp_kind::other;
    if (for_us) {
        kind = pi.arp_op == RTE_ARP_OP_REQUEST ? route::arp_kind::request_to_us : route::arp_kind::reply_to_us;
    } else if (pi.arp_op == RTE_ARP_OP_REQUEST) {
        c.ctr.inc(ctr::arp_not_for_us);
    }
    apply_arp(c, pi.arp_sip, pi.arp_sha, kind);
    // Every lcore keeps its own neighbour table: tell the others.
    command cmd{};
    cmd.type = command::arp_fact;
    cmd.arp_kind = uint8_t(kind);
    cmd.ip = pi.arp_sip;
    cmd.mac = pi.arp_sha;
    for (uint16_t i = 0; i < _lcores.size(); i++) {
        if (i != c.idx) {
            c.ctr.inc(send_command(i, cmd) ? ctr::arp_fanout : ctr::arp_fanout_dropped);
        }
    }
    if (for_us && pi.arp_op == RTE_ARP_OP_REQUEST) {
        uint8_t* data = rte_pktmbuf_mtod(m, uint8_t*);
        const uint32_t len = net::make_arp_reply_inplace(data, pi, _mac);
        m->data_len = uint16_t(len);
        m->pkt_len = len;
        m->ol_flags = 0;
        c.ctr.inc(ctr::arp_replies_sent);
        c.out.push(m);
        return;
    }
    rte_pktmbuf_free(m);
}

void stack::apply_arp(lcore& c, rte_be32_t ip, const rte_ether_addr& mac, route::arp_kind kind)
{
    c.neigh->on_arp(ip, mac, kind, c.now_ms, [&](void* p, const rte_ether_addr& dst) {
        auto* q = static_cast<rte_mbuf*>(p);
        net::eth_hdr(rte_pktmbuf_mtod(q, uint8_t*))->dst_addr = dst;
        c.out.push(q);
    });
}

void stack::handle_command(lcore& c, const command& cmd)
{
    switch (cmd.type) {
    case command::arp_fact:
        apply_arp(c, cmd.ip, cmd.mac, route::arp_kind(cmd.arp_kind));
        break;
    case command::tcp_cmd:
        c.tcp.command(cmd.tcp);
        break;
    case command::stop_gen:
        if (c.gen) {
            c.gen->stop();
        }
        break;
    default:
        break;
    }
}

void stack::timers(lcore& c)
{
    if (c.idx == 0 && !_cfg.resolve.empty() && c.now_ms >= c.next_resolve_ms) {
        c.next_resolve_ms = c.now_ms + 1000;
        // Keep asking until the neighbour answers (the table retries, fails,
        // holds, retries again: a resolve() per second restarts each round).
        for (uint32_t ip : _cfg.resolve) {
            const route::resolve_result r = c.neigh->resolve(rte_cpu_to_be_32(ip), nullptr, c.now_ms);
            if (r.action == route::neigh_action::queued_send_request ||
                r.action == route::neigh_action::mac_known_send_request) {
                send_arp_request(c, rte_cpu_to_be_32(ip));
            }
        }
    }
    c.neigh->tick(
        c.now_ms, [&](rte_be32_t ip) { send_arp_request(c, ip); },
        [&](void* p) {
            c.ctr.inc(ctr::neigh_queue_dropped);
            l2_failed(c, static_cast<rte_mbuf*>(p));
        });
    // Timers are paced by the port like new connections: while the tx queue
    // refuses frames, each millisecond fires half as many timers as the one
    // before (at least timer_floor), and twice as many once it takes them
    // again. Timers that wait are not lost: they fire on later ticks.
    // Without this, millions of connections whose FINs were held up together
    // retransmit together, a storm that keeps the queue full (a 10 M
    // connection drain: 10.9 M FIN retransmissions, 10.7 M frames refused).
    if (c.out.backlogged() || c.out.dropped != c.tick_seen_drops) {
        c.timer_budget = std::max(timer_floor, c.timer_budget / 2);
    } else {
        c.timer_budget = std::min(c.tcp.config().timer_budget, c.timer_budget * 2);
    }
    c.tick_seen_drops = c.out.dropped;
    c.tcp.tick(c.now_ms, c.timer_budget);
}

void stack::send_arp_request(lcore& c, rte_be32_t target)
{
    const route::route_result r = _routes->lookup(target);
    if (!r.ok()) {
        return;
    }
    rte_mbuf* m = c.out.alloc();
    if (m == nullptr) {
        c.ctr.inc(ctr::loop_alloc_failed);
        return;
    }
    const uint32_t len = net::make_arp_request(rte_pktmbuf_mtod(m, uint8_t*), _mac, r.src, target);
    m->data_len = uint16_t(len);
    m->pkt_len = len;
    c.ctr.inc(ctr::arp_requests_sent);
    c.out.push(m);
}

void stack::send_garps(lcore& c)
{
    uint32_t sent = 0;
    for (const auto& e : _addrs->entries()) {
        for (uint64_t a = e.range.first; a <= e.range.last && sent < garp_max; a++, sent++) {
            rte_mbuf* m = c.out.alloc();
            if (m == nullptr) {
                c.ctr.inc(ctr::loop_alloc_failed);
                return;
            }
            const uint32_t len =
                net::make_gratuitous_arp(rte_pktmbuf_mtod(m, uint8_t*), _mac, rte_cpu_to_be_32(uint32_t(a)));
            m->data_len = uint16_t(len);
            m->pkt_len = len;
            c.ctr.inc(ctr::garp_sent);
            c.out.push(m);
        }
    }
    c.out.flush();
}

} // namespace fg::core
