// fg-loadgen: opens connections at a given rate from whole ranges of source
// addresses, to one or more targets, and reports handshake results and RTTs.
//
//   fg-loadgen [EAL options] -- --ip 198.18.1.0-198.18.1.255/16 --target 198.18.0.2:80
//       [--connections N] [--cps N] [--concurrency N] [--close rst|fin|hold] [--hold-ms MS]
//       [--port-range LO-HI] [--syn-retries N] [--syn-linear-timeouts N]
//       [--time-wait-ms MS] [--tw-reuse]
//       [--http PATH [--requests-per-conn N] [--response-timeout-ms MS]]
//       [--duration S] [--drain S] [--max-error-rate F] [--json FILE] [--pcap FILE]
//
// With --http PATH every connection carries HTTP/1.1: `GET PATH` with Host
// set to the target, the whole response read (lib/http's client on the
// lcores, no buffering), then the next request (keep-alive, up to
// --requests-per-conn) or the --close mode. Every request ends counted:
// responses_ok (2xx), responses_bad, responses_unsupported (chunked),
// response_timeouts, response_resets, response_closed, response_failed;
// latencies (request to last byte) as response_us_p50/p99/p999.
//
// With --responder it needs no NIC: it makes a ring pair (two ports wired back
// to back in memory) and runs our own stack on the other end as the server,
// listening on the targets with SYN cookies always and accepting on the lcore
// (no application thread): the first half of the lcores generate, the second
// half respond. That is the README's demo and the handshake benchmark.
//
// The lcores generate by themselves (lib/gen: a token bucket per lcore, no
// ring message per connection); the stats thread only reads counters. At the end of the run (--duration, --connections done, SIGINT or
// SIGTERM) the generator stops and held connections are closed; a draining
// line at the stats interval shows what is still closing (by state) and the
// TIME-WAIT held, until nothing is left (TIME-WAIT entries exist only while
// the process runs: exiting earlier ends their quarantine), --drain seconds
// pass, or a second signal comes; the last line says which. Exit status: 0, 1 (start-up error), 2 (bad options),
// 3 (--max-error-rate exceeded: the summary says by what).
#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <rte_lcore.h>

#include "common/drain.hh"
#include "common/options.hh"
#include "common/runtime.hh"
#include "core/telemetry.hh"
#include "eal.hh"
#include "http/group.hh"
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
    apps::pair_kind responder_ports = apps::pair_kind::ring;
    double max_error_rate = 1;
    bool max_error_rate_set = false;
    bool http = false;
    http::client_config hc;
    uint64_t responder_http_bytes = 128;
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

// The generator's tries (every connection it started, failures included), all lcores.
uint64_t generator_tries(const core::stack& st)
{
    uint64_t n = 0;
    for (uint16_t i = 0; i < st.n_lcores(); i++) {
        n += st.lc(i).gen ? st.lc(i).gen->tries() : 0;
    }
    return n;
}

// Outcomes the generator decides without asking the engine count with the
// engine's: no free source pair is no_port, a target with no route unreachable.
uint64_t no_port(const core::counter_set& s)
{
    return s[tcp::ctr::no_port] + s[gen::ctr::no_port];
}

uint64_t unreachable(const core::counter_set& s)
{
    return s[tcp::ctr::unreachable] + s[gen::ctr::unroutable];
}

// TIME-WAIT entries held now.
uint64_t time_wait_held(const core::counter_set& s)
{
    const uint64_t in = s[tcp::ctr::time_wait_entered];
    const uint64_t out = s[tcp::ctr::time_wait_expired] + s[tcp::ctr::time_wait_reused] + s[tcp::ctr::time_wait_killed];
    return in > out ? in - out : 0;
}

uint64_t failures(const core::counter_set& s)
{
    return s[tcp::ctr::refused] + s[tcp::ctr::timed_out] + unreachable(s) + no_port(s);
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
    rows.push_back(apps::u64_option("syn-linear-timeouts", "N  the first N SYN retransmissions keep the initial RTO, and N more are allowed (Linux 6.5+ tcp_syn_linear_timeouts, 4 there); default 0: classic backoff", 0, 10, [&](uint64_t x) { lo.active.syn_linear_timeouts = uint8_t(x); }));
    rows.push_back({"tw-reuse", false, "reuse TIME-WAIT 4-tuples when timestamps allow (Linux tcp_tw_reuse=1)",
                    [&](std::string_view, std::string&) {
                        lo.active.tw_reuse = true;
                        return true;
                    }});
    rows.push_back(apps::u64_option("max-conns", "N  connections per lcore (pool and table); default 1048576", 1024, 1u << 27, [&](uint64_t x) { lo.capacity = uint32_t(x); }));
    rows.push_back({"max-error-rate", true,
                    "FRACTION  exit 3 if (refused + timed out + unreachable + no port) / tried exceeds it",
                    [&](std::string_view v, std::string& e) {
                        lo.max_error_rate_set = true;
                        return apps::parse_double(v, 0, 1, lo.max_error_rate, e);
                    }});
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
    rows.push_back({"responder-ports", true, "ring|vhost  --responder's ports: a ring pair (default) or a virtio_user <-> "
                                            "net_vhost pair in this process (virtio offloads and queues)",
                    [&](std::string_view v, std::string& e) { return apps::parse_pair_kind(v, lo.responder_ports, e); }});
    rows.push_back({"responder-cookies", true, "auto|always|never  the responder's SYN cookies; default always",
                    [&](std::string_view v, std::string& e) {
                        if (!tcp::parse_syncookie_mode(v, lo.responder_cookies)) {
                            e = "expected auto, always or never";
                            return false;
                        }
                        return true;
                    }});
    rows.push_back({"http", true, "PATH  send GET PATH HTTP/1.1 on each connection and read the whole response before --close",
                    [&](std::string_view v, std::string&) {
                        lo.http = true;
                        lo.hc.path = std::string(v);
                        return true;
                    }});
    rows.push_back(apps::u64_option("requests-per-conn", "N  with --http: requests per connection, one after another (keep-alive); default 1", 1, 1000000, [&](uint64_t x) { lo.hc.requests_per_conn = uint32_t(x); }));
    rows.push_back(apps::u64_option("response-timeout-ms", "MS  with --http: abort a connection whose response is not complete this long after the request; default 10000", 1, 3600000, [&](uint64_t x) { lo.hc.response_timeout_ms = uint32_t(x); }));
    rows.push_back(apps::u64_option("responder-http-bytes", "N  with --responder --http: the responder's response body size; default 128", 0, 1u << 29, [&](uint64_t x) { lo.responder_http_bytes = x; }));
    const std::string what = "A load generator on Floodgate: opens connections at --cps from the --ip ranges to the "
                             "--target(s), reports established/refused/timed out and handshake RTTs; with --http, "
                             "HTTP requests/s, response outcomes and latencies.";

    const int early = apps::parse_args("fg-loadgen", what, rows, co, argc, argv);
    if (early >= 0) {
        return early;
    }
    std::string err;
    if (co.ips.empty() || lo.targets.empty()) {
        std::fprintf(stderr, "fg-loadgen: give --ip ADDR/PLEN (or a range) and at least one --target ADDR:PORT\n");
        return 2;
    }
    // The HTTP client and responder outlive the runtime's stacks (declared first, destroyed last).
    http::client_group hclient;
    http::server_group hserver;
    std::unique_ptr<apps::runtime> rt = apps::runtime::start(argc, argv, 2048, err, lo.responder_ports);
    if (!rt) {
        std::fprintf(stderr, "fg-loadgen: %s\n", err.c_str());
        return 1;
    }

    core::stack_config cc;
    cc.name = "client";
    cc.active = lo.active;
    apps::apply_common(cc, co); // --time-wait-ms
    cc.tcp.capacity = lo.capacity;
    cc.gen = lo.gen;
    for (const auto& t : lo.targets) {
        cc.gen.targets.push_back(make_tuple4(0, 0, t.first, t.second));
    }
    for (const auto& r : co.ips) {
        for (uint64_t a = r.first; a <= r.last; a++) {
            cc.gen.laddrs.push_back(rte_cpu_to_be_32(uint32_t(a)));
        }
    }
    if (lo.http) {
        lo.hc.targets = cc.gen.targets;
        if (!hclient.init(lo.hc, err)) {
            std::fprintf(stderr, "fg-loadgen: --http: %s\n", err.c_str());
            return 2;
        }
        hclient.attach(cc);
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
        pc.kind = lo.responder_ports;
        pc.name = "fgrp";
        pc.client = cc;
        pc.server.name = "responder";
        pc.server.addrs = lo.responder_ips;
        pc.server.tcp.capacity = lo.capacity;
        pc.server.mtu = co.mtu;
        pc.server.gratuitous_arp = true;
        if (lo.http) {
            http::server_config scfg;
            scfg.body = http::generated_body(lo.responder_http_bytes);
            if (!hserver.init(scfg, err)) {
                std::fprintf(stderr, "fg-loadgen: responder: %s\n", err.c_str());
                return 2;
            }
            hserver.attach(pc.server);
        }
        apps::stack_pair sp;
        if (!rt->add_pair(pc, sp, err)) {
            std::fprintf(stderr, "fg-loadgen: %s\n", err.c_str());
            return 1;
        }
        st = sp.client;
        resp = sp.server;
        tcp::listen_options o;
        o.cookies = lo.responder_cookies;
        o.on_accept = lo.http ? tcp::accept_action::serve : tcp::accept_action::hold;
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
    rt->publish(*st, nullptr);
    if (resp != nullptr) {
        rt->publish(*resp, nullptr);
    }
    if (!rt->capture(co, err)) {
        std::fprintf(stderr, "fg-loadgen: %s\n", err.c_str());
        return 1;
    }
    const glue::eal_result& eal = rt->eal();
    std::printf("fg-loadgen: %zu source address(es), %zu target(s), %u generating lcore(s)%s, %s, cps %s%s\n",
                cc.gen.laddrs.size(), lo.targets.size(), st->n_lcores(),
                resp != nullptr ? (", " + std::to_string(resp->n_lcores()) + " responder lcore(s) on a " +
                                    apps::pair_kind_name(lo.responder_ports)).c_str()
                             : "",
                eal.hugepages ? "hugepages" : "no hugepages", apps::fmt_rate(lo.gen.cps).c_str(),
                lo.gen.total ? (", " + std::to_string(lo.gen.total) + " connections").c_str() : "");
    std::fflush(stdout);

    apps::run_options ro;
    ro.duration_s = co.duration_s;
    ro.stats_interval_s = co.stats_interval_s;
    core::counter_set last_line = st->counters();
    uint64_t last_req = 0;
    ro.stats_line = [&](double t, double iv) -> std::string {
        const core::counter_set now = st->counters();
        const core::counter_set d = now.since(last_line);
        last_line = now;
        const tcp::rtt_histogram h = st->rtt_total();
        char buf[512];
        std::snprintf(buf, sizeof(buf),
                      "[fg-loadgen %6.1fs] established %s/s (attempted %s/s) | total est %lu refused %lu timeout %lu "
                      "unreach %lu no_port %lu | synrtx %lu | open %lu | rtt p50 %u p99 %u p99.9 %u us",
                      t, apps::fmt_rate(double(d[tcp::ctr::established]) / iv).c_str(),
                      apps::fmt_rate(double(d[tcp::ctr::attempted]) / iv).c_str(),
                      (unsigned long)now[tcp::ctr::established], (unsigned long)now[tcp::ctr::refused],
                      (unsigned long)now[tcp::ctr::timed_out], (unsigned long)unreachable(now),
                      (unsigned long)no_port(now), (unsigned long)now[tcp::ctr::syn_retransmits],
                      (unsigned long)st->generator_in_flight(), h.percentile(50), h.percentile(99), h.percentile(99.9));
        std::string line = buf;
        if (lo.http) {
            const http::client_counters hcn = hclient.counters();
            const tcp::rtt_histogram lat = hclient.latency();
            const uint64_t req = hcn[http::client_ctr::requests_sent];
            std::snprintf(buf, sizeof(buf),
                          " | requests %s/s ok %lu bad %lu timeout %lu failed %lu | response p50 %u p99 %u us",
                          apps::fmt_rate(double(req - last_req) / iv).c_str(),
                          (unsigned long)hcn[http::client_ctr::responses_ok],
                          (unsigned long)(hcn[http::client_ctr::responses_bad] +
                                          hcn[http::client_ctr::responses_unsupported]),
                          (unsigned long)hcn[http::client_ctr::response_timeouts],
                          (unsigned long)(hcn[http::client_ctr::response_resets] +
                                          hcn[http::client_ctr::response_closed] +
                                          hcn[http::client_ctr::response_failed]),
                          lat.percentile(50), lat.percentile(99));
            last_req = req;
            line += buf;
        }
        return line;
    };
    // The report's series: one sample a second.
    apps::series series;
    core::counter_set last_sample = st->counters();
    tcp::rtt_histogram last_rtt = st->rtt_total();
    double last_t = 0;
    ro.every_second = [&](double t) {
        const core::counter_set now = st->counters();
        const core::counter_set d = now.since(last_sample);
        const tcp::rtt_histogram h = st->rtt_total();
        const double dt = t - last_t > 0 ? t - last_t : 1;
        apps::json_object o;
        o.add("t", t);
        o.add("attempted_per_s", double(d[tcp::ctr::attempted]) / dt);
        o.add("established_per_s", double(d[tcp::ctr::established]) / dt);
        o.add("open", st->generator_in_flight());
        o.add("connections_in_use", st->conns_in_use());
        o.add("time_wait", time_wait_held(now));
        apps::json_object err;
        err.add("refused", double(d[tcp::ctr::refused]) / dt);
        err.add("timed_out", double(d[tcp::ctr::timed_out]) / dt);
        err.add("unreachable", double(unreachable(d)) / dt);
        err.add("no_port", double(no_port(d)) / dt);
        o.add_raw("errors_per_s", err.str());
        o.add("syn_retransmits_per_s", double(d[tcp::ctr::syn_retransmits]) / dt);
        o.add_raw("rtt_us", apps::rtt_json(apps::histogram_since(h, last_rtt)));
        series.add(o);
        last_sample = now;
        last_rtt = h;
        last_t = t;
    };
    ro.finished = [&] { return lo.gen.total != 0 && st->generator_done(); };
    // Draining (common/drain.hh): no new connections, held ones closed with
    // FIN; every connection of ours counts until it is gone, TIME-WAIT included.
    apps::drain_result drained;
    apps::drain_config dc;
    dc.app = "fg-loadgen";
    dc.drain_s = co.drain_s;
    dc.begin = [&] { st->stop_generator(); };
    if (resp != nullptr) {
        dc.extra = [&] { return " | responder " + std::to_string(resp->conns_in_use()) + " open"; };
    }
    apps::set_drain(ro, *st, dc, drained);
    const core::stack::pool_census pools_start = st->pools();
    const double elapsed = rt->run(ro);
    const core::stack::pool_census pools_end = st->pools(); // the lcores stopped: exact

    const core::counter_set total = st->counters();
    const tcp::rtt_histogram h = st->rtt_total();
    const uint64_t est = total[tcp::ctr::established];
    const double per_s = elapsed > 0 ? double(est) / elapsed : 0;
    std::printf("fg-loadgen: %lu established in %.2f s (%s/s), refused %lu, timed out %lu, unreachable %lu, "
                "no port %lu, rtt p50 %u us p99 %u us p99.9 %u us\n",
                (unsigned long)est, elapsed, apps::fmt_rate(per_s).c_str(), (unsigned long)total[tcp::ctr::refused],
                (unsigned long)total[tcp::ctr::timed_out], (unsigned long)unreachable(total),
                (unsigned long)no_port(total), h.percentile(50), h.percentile(99), h.percentile(99.9));
    const http::client_counters hcn = hclient.counters();
    const tcp::rtt_histogram lat = hclient.latency();
    if (lo.http) {
        const uint64_t req = hcn[http::client_ctr::requests_sent];
        std::printf("fg-loadgen: HTTP %lu requests in %.2f s (%s/s): ok %lu, bad %lu, unsupported %lu, timeouts %lu, "
                    "resets %lu, closed %lu, failed %lu, pending %lu; response p50 %u us p99 %u us p99.9 %u us\n",
                    (unsigned long)req, elapsed, apps::fmt_rate(elapsed > 0 ? double(req) / elapsed : 0).c_str(),
                    (unsigned long)hcn[http::client_ctr::responses_ok],
                    (unsigned long)hcn[http::client_ctr::responses_bad],
                    (unsigned long)hcn[http::client_ctr::responses_unsupported],
                    (unsigned long)hcn[http::client_ctr::response_timeouts],
                    (unsigned long)hcn[http::client_ctr::response_resets],
                    (unsigned long)hcn[http::client_ctr::response_closed],
                    (unsigned long)hcn[http::client_ctr::response_failed], (unsigned long)hcn.pending(),
                    lat.percentile(50), lat.percentile(99), lat.percentile(99.9));
    }
    const std::string pcap = rt->capture_summary();
    if (!pcap.empty()) {
        std::printf("fg-loadgen: %s\n", pcap.c_str());
    }
    // Exit status for pipelines.
    const uint64_t tried = generator_tries(*st);
    const uint64_t failed = failures(total);
    const double error_rate = tried > 0 ? double(failed) / double(tried) : 0;
    int status = 0;
    std::string reason = "ok";
    if (lo.max_error_rate_set && error_rate > lo.max_error_rate) {
        status = 3;
        char b[400];
        std::snprintf(b, sizeof(b),
                      "error rate %.4f exceeds --max-error-rate %g: %lu of %lu tried failed (refused %lu, timed out "
                      "%lu, unreachable %lu, no port %lu)",
                      error_rate, lo.max_error_rate, (unsigned long)failed, (unsigned long)tried,
                      (unsigned long)total[tcp::ctr::refused], (unsigned long)total[tcp::ctr::timed_out],
                      (unsigned long)unreachable(total), (unsigned long)no_port(total));
        reason = b;
        std::printf("fg-loadgen: %s: exit 3\n", reason.c_str());
    }
    if (!co.json_path.empty()) {
        apps::json_object j;
        j.add("app", "fg-loadgen");
        j.add("version", apps::version());
        j.add("elapsed_s", elapsed);
        apps::json_object ex;
        ex.add("status", uint64_t(status));
        ex.add("reason", reason);
        j.add_raw("exit", ex.str());
        apps::add_counters(j, total);
        j.add("tried", tried);
        j.add("failed", failed);
        j.add("error_rate", error_rate);
        j.add("rtt_us_p50", uint64_t(h.percentile(50)));
        j.add("rtt_us_p99", uint64_t(h.percentile(99)));
        j.add("rtt_us_p999", uint64_t(h.percentile(99.9)));
        j.add("rtt_us_min", uint64_t(h.min()));
        j.add("rtt_us_max", uint64_t(h.max()));
        j.add("established_per_s", per_s);
        j.add("connections_in_use", st->conns_in_use());
        j.add("time_wait_held", time_wait_held(total));
        apps::add_drain(j, drained);
        apps::add_pools(j, pools_start, pools_end);
        if (lo.http) {
            for (unsigned i = 0; i < http::n_client_counters; i++) {
                j.add(http::client_counter_name(http::client_ctr(i)), hcn.v[i]);
            }
            j.add("requests_pending", hcn.pending());
            j.add("requests_per_s", elapsed > 0 ? double(hcn[http::client_ctr::requests_sent]) / elapsed : 0.0);
            j.add("response_us_p50", uint64_t(lat.percentile(50)));
            j.add("response_us_p99", uint64_t(lat.percentile(99)));
            j.add("response_us_p999", uint64_t(lat.percentile(99.9)));
            j.add("response_us_max", uint64_t(lat.max()));
            apps::json_object e;
            for (unsigned i = 1; i < http::n_parse_errors; i++) {
                e.add(http::parse_error_name(http::parse_error(i)), hcn.errors[i]);
            }
            j.add_raw("response_errors", e.str());
        }
        apps::add_resolved(j, *st, co.resolve);
        rt->add_capture(j);
        j.add_raw("series", series.str());
        if (resp != nullptr) {
            apps::json_object r;
            apps::add_counters(r, resp->counters());
            r.add("connections_in_use", resp->conns_in_use());
            if (lo.http) {
                const http::server_counters sc = hserver.counters();
                apps::json_object hj;
                for (unsigned i = 0; i < http::n_server_counters; i++) {
                    hj.add(http::server_counter_name(http::server_ctr(i)), sc.v[i]);
                }
                r.add_raw("http", hj.str());
            }
            j.add_raw("responder", r.str());
        }
        if (!j.write(co.json_path, err)) {
            std::fprintf(stderr, "fg-loadgen: %s\n", err.c_str());
            return 1;
        }
    }
    return status;
}
