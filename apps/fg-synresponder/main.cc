// fg-synresponder: a high-rate SYN responder on Floodgate.
//
//   fg-synresponder [EAL options] -- --ip 198.18.0.2/24 --listen 80[,443...]
//       [--syncookies always|auto|never] [--max-conns N] [--duration S] [--json FILE]
//
// Every SYN to a --listen port is answered with a SYN-ACK built in place in
// the SYN's own mbuf; with the default --syncookies always that SYN-ACK
// carries a SYN cookie (Linux tcp_syncookies=2) and nothing is remembered. A
// valid cookie ACK becomes a connection on the lcore itself (listener
// accept_action::hold): no accept ring, no application thread. Held
// connections answer a peer FIN with ours and are freed by a RST. ARP and
// ping are answered by the stack.
//
// The per-second line shows SYNs in, SYN-ACKs out, cookies accepted and every
// drop; --json writes the final counters (the same keys as fg-server's).
//
// Why not a preset of fg-server (issue 11 asked; compared, left as is): what
// the two have in common apps/common already gives both (runtime, option rows,
// listeners, capture, series samples, report counters). The rest differs by
// purpose, not by default values: here a cookie ACK stays on the lcore
// (accept_action::hold: no accept ring, no TBB application threads, no
// handles), where fg-server exists to show that application path; and the
// outputs measure different things (SYN-ACKs out per second and drops by place
// here; accepts and what the application threads did there). A preset would
// need hooks for the options, the accept path, the stats line, the summary and
// the report -- more code than the ~50 lines of bring-up and report
// boilerplate it would share.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "common/drain.hh"
#include "common/options.hh"
#include "common/runtime.hh"
#include "core/telemetry.hh"
#include "eal.hh"
#include "port.hh"

using namespace fg;

namespace {

struct responder_options {
    std::vector<uint16_t> listen;
    tcp::listen_options lo;
    uint32_t capacity = 1u << 20;
};

// Everything the responder lost or refused, by where it happened: the port
// (tx queue full), the lcore loop (redirect ring, mempool, not ours), the
// classifier (malformed frames), TCP (queues, pool, table, RST limit).
struct drop_view {
    uint64_t tx = 0;
    uint64_t loop = 0;
    uint64_t classify = 0;
    uint64_t tcp = 0;
    uint64_t unsupported = 0; // not in total()
    uint64_t total() const { return tx + loop + classify + tcp; }
};

drop_view drops_of(const core::counter_set& s)
{
    drop_view d;
    d.tx = s[core::ctr::tx_dropped];
    d.loop = s[core::ctr::redirect_dropped] + s[core::ctr::loop_alloc_failed] + s[core::ctr::not_local] +
             s[core::ctr::to_broadcast];
    // What we do not speak (IPv6, UDP, ...) is not a loss: "dropped_unsupported".
    d.classify = apps::dropped_malformed(s);
    d.unsupported = apps::dropped_unsupported(s);
    for (tcp::ctr c : {tcp::ctr::syn_queue_overflows, tcp::ctr::syn_accept_queue_full, tcp::ctr::pool_exhausted,
                       tcp::ctr::table_full, tcp::ctr::mbuf_alloc_failed, tcp::ctr::synfin_dropped,
                       tcp::ctr::synrst_dropped, tcp::ctr::rst_rate_limited}) {
        d.tcp += s[c];
    }
    return d;
}

} // namespace

int main(int argc, char** argv)
{
    apps::common_options co;
    responder_options rs;
    rs.lo.cookies = tcp::syncookie_mode::always;
    rs.lo.on_accept = tcp::accept_action::hold;
    std::vector<apps::option> rows = apps::common_option_rows(co);
    rows.push_back({"listen", true, "PORT[,PORT...]  TCP ports to answer SYNs on (any local address)",
                    [&](std::string_view v, std::string& e) { return apps::parse_port_list(v, rs.listen, e); }});
    rows.push_back({"syncookies", true,
                    "always|auto|never  SYN cookies (Linux tcp_syncookies 2|1|0); default always: no state per SYN",
                    [&](std::string_view v, std::string& e) {
                        if (!tcp::parse_syncookie_mode(v, rs.lo.cookies)) {
                            e = "expected always, auto or never";
                            return false;
                        }
                        return true;
                    }});
    rows.push_back({"syn-backlog", true, "N  half-open requests per listener with auto|never (split over lcores); "
                                         "default 4096",
                    [&](std::string_view v, std::string& e) {
                        uint64_t x;
                        if (!apps::parse_u64(v, 1, 1u << 26, x, e)) {
                            return false;
                        }
                        rs.lo.syn_backlog = uint32_t(x);
                        return true;
                    }});
    rows.push_back({"max-conns", true, "N  connections (and requests) per lcore: pool and table; default 1048576",
                    [&](std::string_view v, std::string& e) {
                        uint64_t x;
                        if (!apps::parse_u64(v, 1024, 1u << 27, x, e)) {
                            return false;
                        }
                        rs.capacity = uint32_t(x);
                        return true;
                    }});
    rows.push_back({"idle-timeout", true, "SECONDS  close (FIN) a held connection that received nothing for this "
                                          "long (checked every quarter of it); 0: never; default 0",
                    [&](std::string_view v, std::string& e) {
                        double x = 0;
                        if (!apps::parse_double(v, 0, 86400, x, e)) {
                            return false;
                        }
                        rs.lo.idle_timeout_ms = uint32_t(x * 1000);
                        return true;
                    }});
    const std::string what = "A SYN responder on Floodgate: answers every SYN to the --listen ports with a SYN-ACK "
                             "built in place (SYN cookies by default), keeps connections whose cookie ACK is valid "
                             "on the lcore, answers ARP and ping.";

    const int early = apps::parse_args("fg-synresponder", what, rows, co, argc, argv);
    if (early >= 0) {
        return early;
    }
    std::string err;
    if (co.ips.empty() || rs.listen.empty()) {
        std::fprintf(stderr, "fg-synresponder: give --ip ADDR/PLEN and --listen PORT[,PORT...] (see --help)\n");
        return 2;
    }
    core::stack_config sc;
    sc.name = "synresp";
    sc.tcp.capacity = rs.capacity;
    std::unique_ptr<apps::runtime> rt = apps::runtime::start(argc, argv, 1024, err);
    if (!rt) {
        std::fprintf(stderr, "fg-synresponder: %s\n", err.c_str());
        return 1;
    }
    core::stack* st = rt->add_port_stack(co, sc, err);
    if (st == nullptr) {
        std::fprintf(stderr, "fg-synresponder: %s\n", err.c_str());
        return 1;
    }
    const glue::eal_result& eal = rt->eal();
    std::vector<tcp::listener*> listeners;
    for (uint16_t p : rs.listen) {
        tcp::listener* l = rt->listen(*st, 0, p, rs.lo, err);
        if (l == nullptr) {
            std::fprintf(stderr, "fg-synresponder: listen on port %u: %s\n", p, err.c_str());
            return 1;
        }
        listeners.push_back(l);
    }
    rt->publish(*st, nullptr);
    if (!rt->capture(co, err)) {
        std::fprintf(stderr, "fg-synresponder: %s\n", err.c_str());
        return 1;
    }
    std::printf("fg-synresponder: port %u mac %02x:%02x:%02x:%02x:%02x:%02x, %u lcore(s), %s, syncookies %s, "
                "answering SYNs on %zu port(s)\n",
                sc.port_id, st->mac().addr_bytes[0], st->mac().addr_bytes[1], st->mac().addr_bytes[2],
                st->mac().addr_bytes[3], st->mac().addr_bytes[4], st->mac().addr_bytes[5], st->n_lcores(),
                eal.hugepages ? "hugepages" : "no hugepages", tcp::syncookie_mode_name(rs.lo.cookies),
                listeners.size());
    std::fflush(stdout);

    apps::run_options ro;
    ro.duration_s = co.duration_s;
    ro.stats_interval_s = co.stats_interval_s;
    core::counter_set last_line = st->counters();
    ro.stats_line = [&](double t, double iv) {
        const core::counter_set now = st->counters();
        const core::counter_set d = now.since(last_line);
        last_line = now;
        const drop_view dv = drops_of(now);
        char buf[400];
        std::snprintf(buf, sizeof(buf),
                      "[fg-synresponder %6.1fs] syn in %s/s synack out %s/s | cookies sent %lu accepted %lu (%s/s) "
                      "rejected %lu | conns %lu | drops %lu (tx %lu loop %lu classify %lu tcp %lu)",
                      t, apps::fmt_rate(double(d[tcp::ctr::syn_received]) / iv).c_str(),
                      apps::fmt_rate(double(d[tcp::ctr::synack_sent]) / iv).c_str(),
                      (unsigned long)now[tcp::ctr::cookies_sent], (unsigned long)now[tcp::ctr::cookies_accepted],
                      apps::fmt_rate(double(d[tcp::ctr::cookies_accepted]) / iv).c_str(),
                      (unsigned long)now[tcp::ctr::cookies_rejected], (unsigned long)st->conns_in_use(),
                      (unsigned long)dv.total(), (unsigned long)dv.tx, (unsigned long)dv.loop,
                      (unsigned long)dv.classify, (unsigned long)dv.tcp);
        return std::string(buf);
    };
    apps::series series;
    core::counter_set last_sample = st->counters();
    double last_t = 0;
    ro.every_second = [&](double t) {
        const core::counter_set now = st->counters();
        series.add(apps::server_sample(t, t - last_t, now.since(last_sample), *st));
        last_sample = now;
        last_t = t;
    };
    // Draining (common/drain.hh): listeners closed, connections already
    // closing finish and TIME-WAIT expires; open ones are shown, not waited for.
    apps::drain_result drained;
    apps::drain_config dc;
    dc.app = "fg-synresponder";
    dc.drain_s = co.drain_s;
    dc.wait_open = false;
    dc.begin = [&] { rt->stop_listening(); };
    apps::set_drain(ro, *st, dc, drained);
    const double elapsed = rt->run(ro);

    const core::counter_set total = st->counters();
    const uint64_t syn = total[tcp::ctr::syn_received];
    const uint64_t synack = total[tcp::ctr::synack_sent];
    const drop_view d = drops_of(total);
    const uint64_t conns = st->conns_in_use();
    std::printf("fg-synresponder: %lu SYNs in, %lu SYN-ACKs out (%lu with cookies) in %.2f s (%s/s), cookies "
                "accepted %lu, connections held %lu, drops %lu\n",
                (unsigned long)syn, (unsigned long)synack, (unsigned long)total[tcp::ctr::cookies_sent], elapsed,
                apps::fmt_rate(double(synack) / (elapsed > 0 ? elapsed : 1)).c_str(),
                (unsigned long)total[tcp::ctr::cookies_accepted], (unsigned long)conns, (unsigned long)d.total());
    const std::string pcap = rt->capture_summary();
    if (!pcap.empty()) {
        std::printf("fg-synresponder: %s\n", pcap.c_str());
    }
    if (!co.json_path.empty()) {
        apps::json_object j;
        j.add("app", "fg-synresponder");
        j.add("version", apps::version());
        j.add("elapsed_s", elapsed);
        apps::json_object ex;
        ex.add("status", uint64_t(0));
        ex.add("reason", "ok");
        j.add_raw("exit", ex.str());
        j.add("syncookies", std::string(tcp::syncookie_mode_name(rs.lo.cookies)));
        apps::add_counters(j, total);
        j.add("syn_in_per_s", double(syn) / (elapsed > 0 ? elapsed : 1));
        j.add("synack_out_per_s", double(synack) / (elapsed > 0 ? elapsed : 1));
        j.add("connections_in_use", conns);
        apps::json_object dj;
        dj.add("tx", d.tx);
        dj.add("loop", d.loop);
        dj.add("classify", d.classify);
        dj.add("tcp", d.tcp);
        dj.add("total", d.total());
        j.add_raw("drops_by_place", dj.str());
        apps::add_resolved(j, *st, co.resolve);
        rt->add_capture(j);
        apps::add_drain(j, drained);
        j.add_raw("series", series.str());
        if (!j.write(co.json_path, err)) {
            std::fprintf(stderr, "fg-synresponder: %s\n", err.c_str());
            return 1;
        }
    }
    return 0;
}
