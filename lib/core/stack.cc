#include "core/stack.hh"

#include <algorithm>
#include <cstring>

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_pause.h>

#include "base/log.hh"
#include "net/arp.hh"
#include "port.hh"

namespace fg::core {

std::unique_ptr<stack> stack::create(const stack_config& cfg, std::string& error)
{
    std::unique_ptr<stack> st(new stack());
    st->_cfg = cfg;
    if (cfg.addrs.empty()) {
        error = "no address configured: give at least one --ip ADDR/PLEN";
        return nullptr;
    }
    std::vector<unsigned> lcores = cfg.lcores;
    if (lcores.empty()) {
        unsigned id;
        RTE_LCORE_FOREACH(id) { lcores.push_back(id); }
    }
    for (unsigned id : lcores) {
        if (id >= RTE_MAX_LCORE || !rte_lcore_is_enabled(id)) {
            error = "lcore " + std::to_string(id) + " is not enabled in EAL (-l / --lcores)";
            return nullptr;
        }
    }
    const uint16_t n = uint16_t(lcores.size());
    st->_steer = steering(n);

    // Addresses and routes.
    st->_addrs = std::make_unique<route::iface_addrs>();
    for (const auto& r : cfg.addrs) {
        if (!st->_addrs->add(cfg.port_id, r, error)) {
            return nullptr;
        }
    }
    if (!st->_addrs->set_mtu(cfg.port_id, cfg.mtu, error)) {
        return nullptr;
    }
    st->_routes = route::route_table::create(*st->_addrs, error);
    if (!st->_routes) {
        return nullptr;
    }
    if (cfg.gateway != 0 && !st->_routes->add_default(cfg.gateway, error)) {
        return nullptr;
    }

    // The port: one queue per lcore.
    glue::port_config pc;
    pc.n_queues = n;
    pc.mtu = cfg.mtu;
    glue::port_info pi;
    if (!glue::port_start(cfg.port_id, pc, st->_steer, pi, error)) {
        return nullptr;
    }
    st->_mac = pi.mac;
    st->_max_frame = uint32_t(cfg.mtu) + RTE_ETHER_HDR_LEN + RTE_VLAN_HLEN;
    st->_sw_steering = pi.sw_steering || n > 1 ? pi.sw_steering : false;
    if (n == 1) {
        st->_sw_steering = false; // one owner: nothing to redirect
    }
    rte_mempool* mp = glue::mbuf_pool(pi.socket, 0, error);
    if (mp == nullptr) {
        return nullptr;
    }

    // TCP: listeners (RCU readers = our lcores), secrets, one engine per lcore.
    if (!st->_listeners.init(std::max<uint32_t>(n, 1))) {
        error = "cannot create the listener table (RCU)";
        return nullptr;
    }
    try {
        st->_cookies = std::make_unique<tcp::syncookie>(tcp::syncookie::random());
        st->_isn = std::make_unique<tcp::isn_generator>(tcp::isn_generator::random());
    } catch (const std::exception& e) {
        error = e.what();
        return nullptr;
    }

    st->_ns_per_tsc = 1e9 / double(std::max<uint64_t>(1, tsc_hz()));
    st->_lcore_to_idx.assign(RTE_MAX_LCORE, -1);
    for (uint16_t i = 0; i < n; i++) {
        auto c = std::make_unique<lcore>();
        c->st = st.get();
        c->idx = i;
        c->lcore_id = lcores[i];
        st->_lcore_to_idx[lcores[i]] = i;
        c->out.port = cfg.port_id;
        c->out.queue = i;
        c->out.pool = mp;
        c->out.tx_ip_cksum = pi.tx_ip_cksum;
        c->out.tx_tcp_cksum = pi.tx_tcp_cksum;
        const std::string rn = cfg.name + "_rd" + std::to_string(cfg.port_id) + "_" + std::to_string(i);
        c->redirect = rte_ring_create(rn.c_str(), cfg.redirect_ring_size, pi.socket, RING_F_SC_DEQ);
        const std::string cn = cfg.name + "_cmd" + std::to_string(cfg.port_id) + "_" + std::to_string(i);
        c->commands =
            rte_ring_create_elem(cn.c_str(), sizeof(command), cfg.command_ring_size, pi.socket, RING_F_SC_DEQ);
        if (c->redirect == nullptr || c->commands == nullptr) {
            error = "cannot create lcore rings: " + std::string(rte_strerror(rte_errno));
            return nullptr;
        }
        const std::string en = cfg.name + "_ev" + std::to_string(cfg.port_id) + "_" + std::to_string(i);
        c->events = rte_ring_create_elem(en.c_str(), sizeof(tcp::event), cfg.event_ring_size, pi.socket,
                                         RING_F_SP_ENQ);
        if (c->events == nullptr) {
            error = "cannot create the event ring: " + std::string(rte_strerror(rte_errno));
            return nullptr;
        }
        c->neigh = route::neigh_table::create(cfg.neigh, error);
        if (!c->neigh) {
            return nullptr;
        }
        c->routes = std::make_unique<route::route_cache>();
        auto ac = std::make_unique<tcp::active_config>(cfg.active);
        ac->steer = &st->_steer;
        tcp::engine_config ec = cfg.tcp;
        ec.active = ac.get();
        st->_active.push_back(std::move(ac));
        ec.lcore = i;
        ec.n_lcores = n;
        ec.listeners = &st->_listeners;
        ec.registry = &st->_registry;
        ec.cookies = st->_cookies.get();
        ec.isn = st->_isn.get();
        ec.routes = st->_routes.get();
        ec.neigh = c->neigh.get();
        ec.event_ring = c->events;
        ec.out = &c->out;
        ec.l2_send = &stack::l2_send;
        ec.l2_ctx = c.get();
        ec.src_mac = pi.mac;
        ec.opts.mss = uint16_t(std::min<uint32_t>(ec.opts.mss, cfg.mtu - 40u));
        ec.active_app = cfg.active_app ? cfg.active_app(i) : nullptr;
        ec.passive_app = cfg.passive_app ? cfg.passive_app(i) : nullptr;
        if (!c->tcp.init(ec, 0, error)) {
            error = "TCP engine of lcore " + std::to_string(i) + ": " + error;
            return nullptr;
        }
        if (cfg.gen.enabled()) {
            gen::config gc = cfg.gen.share(n, i);
            gc.port_lo = cfg.active.ports.lo;
            gc.port_hi = cfg.active.ports.hi;
            gc.reserved_ports = cfg.active.ports.reserved;
            c->gen = std::make_unique<gen::generator>();
            const gen::env ge{&c->tcp, st->_routes.get(), c->neigh.get(), &st->_steer, i};
            if (!c->gen->init(gc, ge, error)) {
                error = "load generator of lcore " + std::to_string(i) + ": " + error;
                return nullptr;
            }
        }
        for (const auto& s : cfg.static_arp) {
            if (!c->neigh->add_static(rte_cpu_to_be_32(s.ip), s.mac, error)) {
                return nullptr;
            }
        }
        st->_lcores.push_back(std::move(c));
    }
    char macs[RTE_ETHER_ADDR_FMT_SIZE];
    rte_ether_format_addr(macs, sizeof(macs), &pi.mac);
    FG_LOG(INFO, "stack %s: port %u (%s, %s) %u lcore(s), %s steering, tx cksum offload ip=%d tcp=%d",
           cfg.name.c_str(), cfg.port_id, pi.driver.c_str(), macs, n,
           st->_sw_steering ? "software" : (pi.rss ? "RSS" : "no"), pi.tx_ip_cksum, pi.tx_tcp_cksum);
    return st;
}

stack::~stack()
{
    for (auto& c : _lcores) {
        if (c->redirect != nullptr) {
            rte_mbuf* m;
            while (rte_ring_dequeue(c->redirect, reinterpret_cast<void**>(&m)) == 0) {
                rte_pktmbuf_free(m);
            }
            rte_ring_free(c->redirect);
        }
        if (c->commands != nullptr) {
            rte_ring_free(c->commands);
        }
        if (c->events != nullptr) {
            rte_ring_free(c->events);
        }
    }
}

counter_set stack::counters(int idx) const
{
    counter_set s;
    auto rd = [](const uint64_t& x) { return __atomic_load_n(&x, __ATOMIC_RELAXED); };
    for (std::size_t k = 0; k < _lcores.size(); k++) {
        if (idx >= 0 && std::size_t(idx) != k) {
            continue;
        }
        const lcore& l = *_lcores[k];
        for (unsigned i = 0; i < n_core_counters; i++) {
            s.at(block::loop, i) += rd(l.ctr.v[i]);
        }
        for (unsigned i = 0; i < net::n_drops; i++) {
            s.at(block::drops, i) += rd(l.ctr.drops[i]);
        }
        const tcp::tcp_counters& t = l.tcp.counters();
        for (unsigned i = 0; i < tcp::n_counters; i++) {
            s.at(block::tcp, i) += rd(t.v[i]);
        }
        const route::neigh_counters& n = l.neigh->counters();
        unsigned i = 0;
#define FG_X(name, desc) s.at(block::neigh, i++) += rd(n.name);
        FG_FOREACH_NEIGH_COUNTER(FG_X)
#undef FG_X
        const table::conn_table_stats& ts = l.tcp.table_stats();
        i = 0;
#define FG_X(name, desc) s.at(block::table, i++) += rd(ts.name);
        FG_CONN_TABLE_COUNTERS(FG_X)
#undef FG_X
        if (l.gen) {
            for (unsigned g = 0; g < gen::n_counters; g++) {
                s.at(block::gen, g) += l.gen->ctrs()[gen::ctr(g)];
            }
        }
    }
    return s;
}

uint64_t stack::core_total(ctr c) const
{
    uint64_t s = 0;
    for (const auto& l : _lcores) {
        s += l->ctr.get(c);
    }
    return s;
}

uint64_t stack::drop_total(net::drop d) const
{
    uint64_t s = 0;
    for (const auto& l : _lcores) {
        s += __atomic_load_n(&l->ctr.drops[unsigned(d)], __ATOMIC_RELAXED);
    }
    return s;
}

route::neigh_counters stack::neigh_total() const
{
    route::neigh_counters t;
    for (const auto& l : _lcores) {
        const route::neigh_counters& c = l->neigh->counters();
#define FG_X(name, desc) t.name += __atomic_load_n(&c.name, __ATOMIC_RELAXED);
        FG_FOREACH_NEIGH_COUNTER(FG_X)
#undef FG_X
    }
    return t;
}

uint64_t stack::tcp_total(tcp::ctr c) const
{
    uint64_t s = 0;
    for (const auto& l : _lcores) {
        s += __atomic_load_n(&l->tcp.counters().v[unsigned(c)], __ATOMIC_RELAXED);
    }
    return s;
}

uint64_t stack::conns_in_use() const
{
    uint64_t n = 0;
    for (const auto& l : _lcores) {
        n += l->tcp.conns_in_use();
    }
    return n;
}

stack::pool_census stack::pools() const
{
    pool_census p;
    for (const auto& l : _lcores) {
        p.conns += l->tcp.conns_in_use();
        p.table_entries += l->tcp.table_size();
        p.timers += l->tcp.timers_armed();
    }
    p.gen_in_flight = generator_in_flight();
    if (!_lcores.empty() && _lcores[0]->out.pool != nullptr) {
        p.mbufs_available = rte_mempool_avail_count(_lcores[0]->out.pool);
        for (const auto& l : _lcores) {
            p.mbufs_available += l->out.stashed(); // raw mbufs an lcore took ahead (pkt_out::alloc)
        }
    }
    return p;
}

std::array<uint64_t, tcp::n_states> stack::state_counts() const
{
    uint64_t n[tcp::n_states] = {};
    for (const auto& l : _lcores) {
        l->tcp.count_states(n);
    }
    std::array<uint64_t, tcp::n_states> a{};
    std::copy(std::begin(n), std::end(n), a.begin());
    return a;
}

bool stack::generator_done() const
{
    for (const auto& l : _lcores) {
        if (l->gen && !l->gen->done()) {
            return false;
        }
    }
    return true;
}

uint64_t stack::generator_in_flight() const
{
    uint64_t n = 0;
    for (const auto& l : _lcores) {
        if (l->gen) {
            n += l->gen->in_flight();
        }
    }
    return n;
}

uint64_t stack::gen_total(gen::ctr c) const
{
    uint64_t s = 0;
    for (const auto& l : _lcores) {
        if (l->gen) {
            s += l->gen->ctrs()[c];
        }
    }
    return s;
}

void stack::stop_generator()
{
    // Runs on the lcores: a command each.
    for (uint16_t i = 0; i < _lcores.size(); i++) {
        command cmd{};
        cmd.type = command::stop_gen;
        while (!send_command(i, cmd) && !stopping()) {
            rte_pause();
        }
    }
}

tcp::rtt_histogram stack::rtt_total() const
{
    tcp::rtt_histogram h;
    for (const auto& l : _lcores) {
        h.merge(l->tcp.rtt());
    }
    return h;
}

std::unique_ptr<tcp::listener> stack::listen(uint32_t addr, uint16_t port, const tcp::listen_options& o, int& err,
                                             std::string& message)
{
    if (addr != 0 && !_addrs->is_local(rte_cpu_to_be_32(addr))) {
        err = -EADDRNOTAVAIL;
        message = "listen: " + route::format_ipv4(addr) + " is not one of our addresses";
        return nullptr;
    }
    return tcp::listen(_listeners, _registry, rte_cpu_to_be_32(addr), rte_cpu_to_be_16(port), o, n_lcores(), err,
                       message);
}

int stack::unlisten(tcp::listener& l)
{
    std::vector<tcp::event> orphans;
    const int rc = tcp::unlisten(_listeners, _registry, l, &orphans);
    for (const auto& e : orphans) {
        while (!abort(e.h) && !stopping()) {
            rte_pause();
        }
    }
    return rc;
}

bool stack::tcp_command(tcp::cmd_type t, const tcp::handle& h)
{
    if (h.lcore >= _lcores.size()) {
        return false;
    }
    command cmd{};
    cmd.type = command::tcp_cmd;
    cmd.tcp.type = t;
    cmd.tcp.h = h;
    return send_command(uint16_t(h.lcore), cmd);
}

bool stack::connect(uint32_t dst, uint16_t dport, uint32_t src, uint16_t sport, uint64_t user)
{
    command cmd{};
    cmd.type = command::tcp_cmd;
    cmd.tcp.type = tcp::cmd_type::connect;
    cmd.tcp.tuple = make_tuple4(src, sport, dst, dport);
    cmd.tcp.user = user;
    // With a fixed source the owner is known; otherwise lcore 0 picks a port
    // it owns (the allocator only hands out ports whose replies come back to it).
    uint16_t owner = 0;
    if (src != 0 && sport != 0) {
        owner = _steer.owner(cmd.tcp.tuple);
    }
    return send_command(owner, cmd);
}

bool stack::send_command(uint16_t idx, const command& cmd)
{
    if (idx >= _lcores.size()) {
        return false;
    }
    return rte_ring_enqueue_elem(_lcores[idx]->commands, const_cast<command*>(&cmd), sizeof(cmd)) == 0;
}

} // namespace fg::core
