#include "common/runtime.hh"

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <thread>

#include <rte_launch.h>
#include <rte_lcore.h>

namespace fg::apps {

namespace {
std::atomic<bool> g_stop{false};

void on_signal(int) { g_stop.store(true); }

struct launch_arg {
    core::stack* st;
};

int lcore_main(void* arg)
{
    auto* st = static_cast<core::stack*>(arg);
    return st->run_lcore(rte_lcore_id());
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
    core::stack* main_stack = nullptr;
    for (core::stack* st : stacks) {
        for (uint16_t i = 0; i < st->n_lcores(); i++) {
            const unsigned id = st->lc(i).lcore_id;
            if (id == main_id) {
                main_stack = st;
            } else {
                rte_eal_remote_launch(lcore_main, st, id);
            }
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
        }
        for (core::stack* st : stacks) {
            st->stop();
        }
    });
    if (main_stack != nullptr) {
        main_stack->run_lcore(main_id);
    }
    ctl.join();
    rte_eal_mp_wait_lcore();
    return elapsed();
}

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

std::unique_ptr<core::stack> bring_up(int argc, char** argv, const common_options& co, core::stack_config& sc,
                                      glue::eal_result& eal, std::string& error)
{
    eal = glue::eal_start(argc, argv);
    if (!eal.ok) {
        error = eal.error;
        return nullptr;
    }
    install_signal_handlers();
    if (!resolve_port(co.port, sc.port_id, error)) {
        return nullptr;
    }
    apply_common(sc, co);
    return core::stack::create(sc, error);
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
