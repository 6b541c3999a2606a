// fg-loadgen: opens connections at a given rate from whole ranges of source
// addresses, to one or more targets, and reports handshake results and RTTs.
//
//   fg-loadgen [EAL options] -- --ip 198.18.1.0-198.18.1.255/16 --target 198.18.0.2:80
//       [--connections N] [--cps N] [--concurrency N] [--close rst|fin|hold] [--hold-ms MS]
//       [--port-range LO-HI] [--syn-retries N] [--time-wait-ms MS] [--tw-reuse]
//       [--duration S] [--json FILE]
//
// With --responder it needs no NIC: it makes a ring pair (two ports wired back
// to back in memory) and runs our own stack on the other end as the server,
// listening on the targets with SYN cookies always and accepting on the lcore
// (no application thread): the first half of the lcores generate, the second
// half respond. That is the README's demo and the handshake benchmark.
//
// The lcores generate by themselves (lib/gen: a token bucket per lcore, no
// ring message per connection); the stats thread only reads counters.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <rte_lcore.h>

#include "common/options.hh"
#include "common/runtime.hh"
#include "core/telemetry.hh"
#include "eal.hh"
#include "port.hh"

using namespace fg;

namespace {

struct loadgen_options {
    std::vector<std::pair<uint32_t, uint16_t>> targets; // host order
    tcp::active_config active;
    gen::config gen;
    bool responder = false;
    std::vector<route::addr_range> responder_ips;
    tcp::syncookie_mode responder_cookies = tcp::syncookie_mode::always;
    uint32_t capacity = 1u << 20;
};

bool parse_target(std::string_view v, std::pair<uint32_t, uint16_t>& out, std::string& e)
{
    const std::size_t colon = v.rfind(':');
    if (colon == std::string_view::npos) {
        e = "expected ADDR:PORT";
        return false;
    }
    uint64_t p = 0;
    if (!route::parse_ipv4(v.substr(0, colon), out.first, e) || !apps::parse_u64(v.substr(colon + 1), 1, 65535, p, e)) {
        return false;
    }
    out.second = uint16_t(p);
    return true;
}

// Outcomes the generator decides without the engine, reported under the
// engine's names: no free source pair is no_port, a target without a route
// is unreachable.
uint64_t gen_extra(const core::stack& st, tcp::ctr c)
{
    switch (c) {
    case tcp::ctr::no_port:
        return st.gen_total(gen::ctr::no_port);
    case tcp::ctr::unreachable:
        return st.gen_total(gen::ctr::unroutable);
    default:
        return 0;
    }
}

uint64_t total(const core::stack& st, tcp::ctr c)
{
    return st.tcp_total(c) + gen_extra(st, c);
}

std::string fmt_rate(double r)
{
    char b[32];
    if (r >= 1e6) {
        std::snprintf(b, sizeof(b), "%.2fM", r / 1e6);
    } else if (r >= 1e3) {
        std::snprintf(b, sizeof(b), "%.1fk", r / 1e3);
    } else {
        std::snprintf(b, sizeof(b), "%.0f", r);
    }
    return b;
}

} // namespace

int main(int argc, char** argv)
{
    apps::common_options co;
    loadgen_options lo;
    lo.gen.close = gen::close_mode::rst;
    lo.gen.cps = 1e6;
    std::vector<apps::option> rows = apps::common_option_rows(co);
    rows.push_back({"target", true, "ADDR:PORT  where to connect; repeatable (round robin)",
                    [&](std::string_view v, std::string& e) {
                        std::pair<uint32_t, uint16_t> t;
                        if (!parse_target(v, t, e)) {
                            return false;
                        }
                        lo.targets.push_back(t);
                        return true;
                    }});
    rows.push_back(apps::u64_option("connections", "N  connections to open in all (0: until --duration); default 0", 0, UINT64_MAX, [&](uint64_t x) { lo.gen.total = x; }));
    rows.push_back({"cps", true, "N  connections per second, all lcores together; default 1000000",
                    [&](std::string_view v, std::string& e) {
                        return apps::parse_double(v, 1, 1e9, lo.gen.cps, e);
                    }});
    rows.push_back(apps::u64_option("concurrency", "N  most connections open (not yet closed by us) at once; 0: no limit", 0, 1u << 30, [&](uint64_t x) { lo.gen.concurrency = uint32_t(x); }));
    rows.push_back({"close", true, "rst|fin|hold  what to do once established; default rst",
                    [&](std::string_view v, std::string& e) {
                        if (!gen::parse_close_mode(v, lo.gen.close)) {
                            e = "expected rst, fin or hold";
                            return false;
                        }
                        return true;
                    }});
    rows.push_back(apps::u64_option("hold-ms", "MS  with --close hold: close (FIN) after this long; 0: hold until the end", 0, UINT32_MAX, [&](uint64_t x) { lo.gen.hold_ms = uint32_t(x); }));
    rows.push_back({"port-range", true, "LO-HI  local ports (Linux ip_local_port_range); default 32768-60999",
                    [&](std::string_view v, std::string& e) {
                        const std::size_t dash = v.find('-');
                        uint64_t a = 0;
                        uint64_t b = 0;
                        if (dash == std::string_view::npos || !apps::parse_u64(v.substr(0, dash), 1, 65535, a, e) ||
                            !apps::parse_u64(v.substr(dash + 1), 1, 65535, b, e)) {
                            if (e.empty()) {
                                e = "expected LO-HI";
                            }
                            return false;
                        }
                        if (a > b) {
                            e = "LO must not exceed HI";
                            return false;
                        }
                        lo.active.ports.lo = uint16_t(a);
                        lo.active.ports.hi = uint16_t(b);
                        return true;
                    }});
    rows.push_back(apps::u64_option("syn-retries", "N  SYN retransmissions before timed_out (Linux tcp_syn_retries); default 6", 0, 20, [&](uint64_t x) { lo.active.syn_retries = uint8_t(x); }));
    rows.push_back(apps::u64_option("time-wait-ms", "MS  TIME-WAIT length; default 60000", 0, 3600000, [&](uint64_t x) { lo.active.time_wait_ms = uint32_t(x); }));
    rows.push_back({"tw-reuse", false, "reuse TIME-WAIT 4-tuples when timestamps allow (Linux tcp_tw_reuse=1)",
                    [&](std::string_view, std::string&) {
                        lo.active.tw_reuse = true;
                        return true;
                    }});
    rows.push_back(apps::u64_option("max-conns", "N  connections per lcore (pool and table); default 1048576", 1024, 1u << 27, [&](uint64_t x) { lo.capacity = uint32_t(x); }));
    rows.push_back({"responder", false, "run our own server on an in-memory ring pair (no NIC needed)",
                    [&](std::string_view, std::string&) {
                        lo.responder = true;
                        return true;
                    }});
    rows.push_back({"responder-ip", true, "ADDR/PLEN  the responder's addresses; default: the targets' /16s",
                    [&](std::string_view v, std::string& e) {
                        route::addr_range a;
                        if (!route::parse_addr(v, a, e)) {
                            return false;
                        }
                        lo.responder_ips.push_back(a);
                        return true;
                    }});
    rows.push_back({"responder-cookies", true, "auto|always|never  the responder's SYN cookies; default always",
                    [&](std::string_view v, std::string& e) {
                        if (!tcp::parse_syncookie_mode(v, lo.responder_cookies)) {
                            e = "expected auto, always or never";
                            return false;
                        }
                        return true;
                    }});
    const std::string what = "A load generator on Floodgate: opens connections at --cps from the --ip ranges to the "
                             "--target(s), reports established/refused/timed out and handshake RTTs.";

    std::string err;
    if (!apps::parse(rows, apps::app_args(argc, argv), err)) {
        std::fprintf(stderr, "fg-loadgen: %s\n", err.c_str());
        return 2;
    }
    if (co.help) {
        std::printf("%s", apps::usage("fg-loadgen", what, rows).c_str());
        return 0;
    }
    if (co.ips.empty() || lo.targets.empty()) {
        std::fprintf(stderr, "fg-loadgen: give --ip ADDR/PLEN (or a range) and at least one --target ADDR:PORT\n");
        return 2;
    }
    std::unique_ptr<apps::runtime> rt = apps::runtime::start(argc, argv, 2048, err);
    if (!rt) {
        std::fprintf(stderr, "fg-loadgen: %s\n", err.c_str());
        return 1;
    }

    core::stack_config cc;
    cc.name = "client";
    apps::apply_common(cc, co);
    cc.tcp.capacity = lo.capacity;
    cc.active = lo.active;
    cc.gen = lo.gen;
    for (const auto& t : lo.targets) {
        cc.gen.targets.push_back(make_tuple4(0, 0, t.first, t.second));
    }
    for (const auto& r : co.ips) {
        for (uint64_t a = r.first; a <= r.last; a++) {
            cc.gen.laddrs.push_back(rte_cpu_to_be_32(uint32_t(a)));
        }
    }
    core::stack* st = nullptr;
    core::stack* resp = nullptr;
    if (lo.responder) {
        // Our own server on the other end of a ring pair: the first half of
        // the lcores generate, the second half respond (one lcore: both on it).
        if (lo.responder_ips.empty()) {
            for (const auto& t : lo.targets) {
                route::addr_range a;
                a.first = a.last = t.first;
                a.plen = 16;
                bool dup = false;
                for (const auto& r : lo.responder_ips) {
                    dup = dup || r.first == a.first;
                }
                if (!dup) {
                    lo.responder_ips.push_back(a);
                }
            }
        }
        apps::pair_config pc;
        pc.name = "fgrp";
        pc.client = cc;
        pc.server.name = "responder";
        pc.server.addrs = lo.responder_ips;
        pc.server.tcp.capacity = lo.capacity;
        pc.server.mtu = co.mtu;
        pc.server.gratuitous_arp = true;
        apps::stack_pair sp;
        if (!rt->add_pair(pc, sp, err)) {
            std::fprintf(stderr, "fg-loadgen: %s\n", err.c_str());
            return 1;
        }
        st = sp.client;
        resp = sp.server;
        tcp::listen_options o;
        o.cookies = lo.responder_cookies;
        o.on_accept = tcp::accept_action::hold;
        std::vector<uint16_t> ports;
        for (const auto& t : lo.targets) {
            if (std::find(ports.begin(), ports.end(), t.second) != ports.end()) {
                continue;
            }
            ports.push_back(t.second);
            if (rt->listen(*resp, 0, t.second, o, err) == nullptr) {
                std::fprintf(stderr, "fg-loadgen: responder listen on %u: %s\n", t.second, err.c_str());
                return 1;
            }
        }
    } else {
        if (!apps::resolve_port(co.port, cc.port_id, err)) {
            std::fprintf(stderr, "fg-loadgen: %s\n", err.c_str());
            return 1;
        }
        st = rt->add_stack(cc, err);
        if (st == nullptr) {
            std::fprintf(stderr, "fg-loadgen: %s\n", err.c_str());
            return 1;
        }
    }
    rt->publish(*st, apps::tcp_telemetry(*st));
    if (resp != nullptr) {
        rt->publish(*resp, apps::tcp_telemetry(*resp));
    }
    const glue::eal_result& eal = rt->eal();
    std::printf("fg-loadgen: %zu source address(es), %zu target(s), %u generating lcore(s)%s, %s, cps %s%s\n",
                cc.gen.laddrs.size(), lo.targets.size(), st->n_lcores(),
                resp != nullptr ? (", " + std::to_string(resp->n_lcores()) + " responder lcore(s) on a ring pair").c_str()
                             : "",
                eal.hugepages ? "hugepages" : "no hugepages", fmt_rate(lo.gen.cps).c_str(),
                lo.gen.total ? (", " + std::to_string(lo.gen.total) + " connections").c_str() : "");
    std::fflush(stdout);

    apps::run_options ro;
    ro.duration_s = co.duration_s;
    ro.stats_interval_s = co.stats_interval_s > 0 ? co.stats_interval_s : 0.25;
    const bool print = co.stats_interval_s > 0;
    uint64_t last_est = 0;
    uint64_t last_att = 0;
    ro.stats_line = [&](double t, double iv) -> std::string {
        if (!print) {
            return "";
        }
        const uint64_t est = st->tcp_total(tcp::ctr::established);
        const uint64_t att = st->tcp_total(tcp::ctr::attempted);
        const tcp::rtt_histogram h = st->rtt_total();
        const uint64_t in_flight = st->generator_in_flight();
        char buf[400];
        std::snprintf(buf, sizeof(buf),
                      "[fg-loadgen %6.1fs] established %s/s (attempted %s/s) | total est %lu refused %lu timeout %lu "
                      "unreach %lu no_port %lu | synrtx %lu | open %lu | rtt p50 %u us p99 %u us",
                      t, fmt_rate(double(est - last_est) / iv).c_str(), fmt_rate(double(att - last_att) / iv).c_str(),
                      (unsigned long)est, (unsigned long)st->tcp_total(tcp::ctr::refused),
                      (unsigned long)st->tcp_total(tcp::ctr::timed_out),
                      (unsigned long)total(*st, tcp::ctr::unreachable),
                      (unsigned long)total(*st, tcp::ctr::no_port),
                      (unsigned long)st->tcp_total(tcp::ctr::syn_retransmits), (unsigned long)in_flight, h.percentile(50),
                      h.percentile(99));
        last_est = est;
        last_att = att;
        return buf;
    };
    ro.finished = [&] { return lo.gen.total != 0 && st->generator_done(); };
    const double elapsed = rt->run(ro);

    const tcp::rtt_histogram h = st->rtt_total();
    const uint64_t est = st->tcp_total(tcp::ctr::established);
    std::printf("fg-loadgen: %lu established in %.2f s (%s/s), refused %lu, timed out %lu, unreachable %lu, "
                "no port %lu, rtt p50 %u us p99 %u us\n",
                (unsigned long)est, elapsed, fmt_rate(double(est) / elapsed).c_str(),
                (unsigned long)st->tcp_total(tcp::ctr::refused), (unsigned long)st->tcp_total(tcp::ctr::timed_out),
                (unsigned long)total(*st, tcp::ctr::unreachable), (unsigned long)total(*st, tcp::ctr::no_port),
                h.percentile(50), h.percentile(99));
    if (!co.json_path.empty()) {
        apps::json_object j;
        j.add("app", std::string("fg-loadgen"));
        j.add("elapsed_s", elapsed);
        apps::add_tcp_counters(j, *st, [&](tcp::ctr c) { return gen_extra(*st, c); });
        j.add("rtt_us_p50", uint64_t(h.percentile(50)));
        j.add("rtt_us_p99", uint64_t(h.percentile(99)));
        j.add("rtt_us_min", uint64_t(h.min()));
        j.add("rtt_us_max", uint64_t(h.max()));
        j.add("established_per_s", double(est) / elapsed);
        const uint64_t in_use = st->conns_in_use();
        j.add("connections_in_use", in_use);
        apps::json_object core_j;
        apps::add_stack_counters(core_j, *st);
        j.add_raw("stack", core_j.str());
        apps::json_object gen_j;
        for (unsigned i = 0; i < gen::n_counters; i++) {
            gen_j.add(gen::counter_name(gen::ctr(i)), st->gen_total(gen::ctr(i)));
        }
        gen_j.add("in_flight", st->generator_in_flight());
        j.add_raw("generator", gen_j.str());
        apps::add_resolved(j, *st, co.resolve);
        if (resp != nullptr) {
            apps::json_object r;
            apps::add_tcp_counters(r, *resp);
            apps::add_stack_counters(r, *resp);
            j.add_raw("responder", r.str());
        }
        if (!j.write(co.json_path, err)) {
            std::fprintf(stderr, "fg-loadgen: %s\n", err.c_str());
        }
    }
    return 0;
}
