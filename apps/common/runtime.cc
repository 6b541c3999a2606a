#include "common/runtime.hh"

#include "port.hh"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <thread>

#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>

namespace fg::apps {

namespace {
std::atomic<bool> g_stop{false};
std::atomic<bool> g_lcores_running{false};

void on_signal(int sig)
{
    g_stop.store(true);
    // A second signal ends the process the default way (a teardown that hangs
    // can still be interrupted).
    std::signal(sig, SIG_DFL);
}

// The stacks that poll one lcore.
struct lcore_job {
    unsigned lcore_id = 0;
    std::vector<core::stack*> stacks;
};

int lcore_main(void* arg)
{
    auto* job = static_cast<lcore_job*>(arg);
    return core::stack::run_shared_lcore(job->stacks, job->lcore_id);
}
} // namespace

void install_signal_handlers()
{
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
}

bool stop_requested() { return g_stop.load(); }
void request_stop() { g_stop.store(true); }

double run(const std::vector<core::stack*>& stacks, const run_options& ro)
{
    const unsigned main_id = rte_get_main_lcore();
    std::vector<lcore_job> jobs;
    for (core::stack* st : stacks) {
        for (uint16_t i = 0; i < st->n_lcores(); i++) {
            const unsigned id = st->lc(i).lcore_id;
            auto it = std::find_if(jobs.begin(), jobs.end(), [id](const lcore_job& j) { return j.lcore_id == id; });
            if (it == jobs.end()) {
                jobs.push_back(lcore_job{id, {}});
                it = jobs.end() - 1;
            }
            it->stacks.push_back(st);
        }
    }
    g_lcores_running.store(true);
    lcore_job* main_job = nullptr;
    for (lcore_job& j : jobs) {
        if (j.lcore_id == main_id) {
            main_job = &j;
        } else {
            rte_eal_remote_launch(lcore_main, &j, j.lcore_id);
        }
    }
    const auto t0 = std::chrono::steady_clock::now();
    auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
    std::thread ctl([&] {
        double next = ro.stats_interval_s > 0 ? ro.stats_interval_s : 1e300;
        while (!g_stop.load()) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
            const double e = elapsed();
            if (ro.duration_s > 0 && e >= ro.duration_s) {
                break;
            }
            if (e >= next) {
                if (ro.stats_line) {
                    const std::string line = ro.stats_line(e, ro.stats_interval_s);
                    if (!line.empty()) {
                        std::fprintf(stdout, "%s\n", line.c_str());
                        std::fflush(stdout);
                    }
                }
                next += ro.stats_interval_s;
                if (ro.done && ro.done(e)) {
                    break;
                }
            } else if (ro.stats_interval_s <= 0 && ro.done && ro.done(e)) {
                break;
            }
            if (ro.finished && ro.finished()) {
                break;
            }
        }
        for (core::stack* st : stacks) {
            st->stop();
        }
    });
    if (main_job != nullptr) {
        lcore_main(main_job);
    }
    ctl.join();
    rte_eal_mp_wait_lcore();
    g_lcores_running.store(false);
    return elapsed();
}

std::pair<std::vector<unsigned>, std::vector<unsigned>> split_lcores(const std::vector<unsigned>& lcores)
{
    if (lcores.size() <= 1) {
        return {lcores, lcores};
    }
    const std::size_t half = lcores.size() / 2;
    return {std::vector<unsigned>(lcores.begin(), lcores.begin() + long(half)),
            std::vector<unsigned>(lcores.begin() + long(half), lcores.begin() + long(2 * half))};
}

std::unique_ptr<runtime> runtime::start(int argc, char** argv, unsigned mem_mb, std::string& error)
{
    std::unique_ptr<runtime> rt(new runtime());
    rt->_eal = glue::eal_start(argc, argv, mem_mb);
    if (!rt->_eal.ok) {
        error = rt->_eal.error;
        return nullptr;
    }
    rt->_undo.push_back([] { glue::eal_stop(); });
    install_signal_handlers();
    std::setvbuf(stdout, nullptr, _IOLBF, 0); // stats lines reach a pipe as they are printed
    return rt;
}

runtime::~runtime()
{
    if (g_lcores_running.load()) {
        // Only reachable if run() did not return normally (an exception):
        // the loops must be stopped before anything they use goes.
        for (core::stack* st : _stacks) {
            st->stop();
        }
        rte_eal_mp_wait_lcore();
        g_lcores_running.store(false);
    }
    for (auto it = _undo.rbegin(); it != _undo.rend(); ++it) {
        (*it)();
    }
}

std::vector<unsigned> runtime::lcores() const
{
    std::vector<unsigned> v;
    unsigned id;
    RTE_LCORE_FOREACH(id) { v.push_back(id); }
    return v;
}

namespace {
void close_port(uint16_t port)
{
    if (rte_eth_dev_is_valid_port(port)) {
        glue::port_stop(port);
    }
}
} // namespace

bool runtime::ring_pair(const std::string& name, uint16_t n_queues, uint16_t& port_a, uint16_t& port_b,
                        std::string& error)
{
    // Undo first: make_ring_pair may fail half way; the undo frees what exists.
    _undo.push_back([name, n_queues] { glue::destroy_ring_pair(name, n_queues); });
    return glue::make_ring_pair(name, n_queues, 0, port_a, port_b, error);
}

core::stack* runtime::add_stack(const core::stack_config& cfg, std::string& error)
{
    // The port is started inside stack::create: stop it even if create fails after that.
    const uint16_t port = cfg.port_id;
    _undo.push_back([port] { close_port(port); });
    std::unique_ptr<core::stack> st = core::stack::create(cfg, error);
    if (!st) {
        return nullptr;
    }
    core::stack* p = st.release();
    _stacks.push_back(p);
    _undo.push_back([this, p] {
        _stacks.erase(std::remove(_stacks.begin(), _stacks.end(), p), _stacks.end());
        delete p;
    });
    return p;
}

bool runtime::add_pair(pair_config pc, stack_pair& out, std::string& error)
{
    if (pc.client.lcores.empty() && pc.server.lcores.empty()) {
        auto [c, s] = split_lcores(lcores());
        pc.client.lcores = c;
        pc.server.lcores = s;
    }
    if (pc.client.lcores.size() != pc.server.lcores.size() || pc.client.lcores.empty()) {
        error = "a stack pair needs as many client lcores as server lcores (one ring-pair queue each)";
        return false;
    }
    uint16_t a = 0;
    uint16_t b = 0;
    if (!ring_pair(pc.name, uint16_t(pc.client.lcores.size()), a, b, error)) {
        return false;
    }
    pc.client.port_id = a;
    pc.server.port_id = b;
    out.server = add_stack(pc.server, error);
    if (out.server == nullptr) {
        error = pc.server.name + ": " + error;
        return false;
    }
    out.client = add_stack(pc.client, error);
    if (out.client == nullptr) {
        error = pc.client.name + ": " + error;
        return false;
    }
    return true;
}

tcp::listener* runtime::listen(core::stack& st, uint32_t addr, uint16_t port, const tcp::listen_options& o,
                               std::string& error)
{
    int rc = 0;
    std::unique_ptr<tcp::listener> l = st.listen(addr, port, o, rc, error);
    if (!l) {
        return nullptr;
    }
    tcp::listener* p = l.release();
    core::stack* s = &st;
    _undo.push_back([s, p] {
        s->unlisten(*p);
        delete p;
    });
    return p;
}

void runtime::publish(core::stack& st, core::counter_source extra)
{
    core::telemetry_register(&st, std::move(extra));
    core::stack* s = &st;
    _undo.push_back([s] { core::telemetry_unregister(s); });
}

double runtime::run(const run_options& ro) { return apps::run(_stacks, ro); }

void json_object::key(const std::string& k)
{
    if (!_body.empty()) {
        _body += ",";
    }
    _body += "\"" + k + "\":";
}

void json_object::add(const std::string& k, uint64_t v)
{
    key(k);
    _body += std::to_string(v);
}

void json_object::add(const std::string& k, double v)
{
    key(k);
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%.6g", v);
    _body += buf;
}

void json_object::add(const std::string& k, const std::string& v)
{
    key(k);
    _body += "\"";
    for (char ch : v) {
        if (ch == '"' || ch == '\\') {
            _body += '\\';
        }
        _body += ch;
    }
    _body += "\"";
}

void json_object::add_raw(const std::string& k, const std::string& json)
{
    key(k);
    _body += json;
}

bool json_object::write(const std::string& path, std::string& error) const
{
    std::ofstream f(path);
    if (!f) {
        error = "cannot write " + path;
        return false;
    }
    f << str() << "\n";
    return bool(f);
}

void add_stack_counters(json_object& j, const core::stack& st)
{
    for (unsigned i = 0; i < core::n_core_counters; i++) {
        j.add(core::ctr_name(core::ctr(i)), st.core_total(core::ctr(i)));
    }
    // Frames we do not speak (IPv6, UDP, ICMP other than echo, IP options) are
    // "unsupported"; everything else the classifier refused is malformed.
    uint64_t malformed = 0;
    uint64_t unsupported = 0;
    json_object drops;
    for (unsigned i = 0; i < net::n_drops; i++) {
        const auto d = net::drop(i);
        const uint64_t v = st.drop_total(d);
        const bool unsup = d == net::drop::unknown_ethertype || d == net::drop::unknown_l4 ||
                           d == net::drop::icmp_unhandled || d == net::drop::ip_options;
        (unsup ? unsupported : malformed) += v;
        drops.add(net::drop_name(d), v);
    }
    j.add("dropped_malformed", malformed);
    j.add("dropped_unsupported", unsupported);
    j.add_raw("drops", drops.str());
    const route::neigh_counters n = st.neigh_total();
    json_object nj;
#define FG_X(name, desc) nj.add(#name, n.name);
    FG_FOREACH_NEIGH_COUNTER(FG_X)
#undef FG_X
    j.add_raw("neigh", nj.str());
}

} // namespace fg::apps

namespace fg::apps {

void add_tcp_counters(json_object& j, const core::stack& st, const std::function<uint64_t(tcp::ctr)>& extra)
{
    for (unsigned i = 0; i < tcp::n_counters; i++) {
        const auto c = tcp::ctr(i);
        j.add(tcp::counter_name(c), st.tcp_total(c) + (extra ? extra(c) : 0));
    }
}

core::counter_source tcp_telemetry(const core::stack& st)
{
    return [&st](const auto& add, int idx) {
        for (unsigned i = 0; i < tcp::n_counters; i++) {
            const auto c = tcp::ctr(i);
            add(tcp::counter_name(c), idx < 0 ? st.tcp_total(c) : st.lc(uint16_t(idx)).tcp.counters()[c]);
        }
    };
}

void add_resolved(json_object& j, const core::stack& st, const std::vector<uint32_t>& addrs)
{
    json_object r;
    for (uint32_t a : addrs) {
        const auto v = st.neighbour(0, a);
        std::string mac;
        if (v && v->state != route::neigh_state::incomplete && v->state != route::neigh_state::failed &&
            v->state != route::neigh_state::free) {
            char buf[RTE_ETHER_ADDR_FMT_SIZE];
            rte_ether_format_addr(buf, sizeof(buf), &v->mac);
            mac = buf;
        }
        r.add(route::format_ipv4(a), mac);
    }
    j.add_raw("resolved", r.str());
}

void apply_common(core::stack_config& sc, const common_options& co)
{
    sc.addrs = co.ips;
    sc.gateway = co.gateway;
    sc.static_arp = co.static_arp;
    sc.mtu = co.mtu;
    sc.resolve = co.resolve;
}

} // namespace fg::apps
