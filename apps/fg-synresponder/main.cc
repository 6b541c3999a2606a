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
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

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

drop_view drops_of(const core::stack& st)
{
    drop_view d;
    d.tx = st.core_total(core::ctr::tx_dropped);
    d.loop = st.core_total(core::ctr::redirect_dropped) + st.core_total(core::ctr::loop_alloc_failed) +
             st.core_total(core::ctr::not_local) + st.core_total(core::ctr::to_broadcast);
    for (unsigned i = 0; i < net::n_drops; i++) {
        const auto w = net::drop(i);
        // What we do not speak (IPv6, UDP, ...) is not a loss: apps' "dropped_unsupported".
        const bool unsup = w == net::drop::unknown_ethertype || w == net::drop::unknown_l4 ||
                           w == net::drop::icmp_unhandled || w == net::drop::ip_options;
        (unsup ? d.unsupported : d.classify) += st.drop_total(w);
    }
    for (tcp::ctr c : {tcp::ctr::syn_queue_overflows, tcp::ctr::syn_accept_queue_full, tcp::ctr::pool_exhausted,
                       tcp::ctr::table_full, tcp::ctr::mbuf_alloc_failed, tcp::ctr::synfin_dropped,
                       tcp::ctr::synrst_dropped, tcp::ctr::rst_rate_limited}) {
        d.tcp += st.tcp_total(c);
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
    const std::string what = "A SYN responder on Floodgate: answers every SYN to the --listen ports with a SYN-ACK "
                             "built in place (SYN cookies by default), keeps connections whose cookie ACK is valid "
                             "on the lcore, answers ARP and ping.";

    std::string err;
    if (!apps::parse(rows, apps::app_args(argc, argv), err)) {
        std::fprintf(stderr, "fg-synresponder: %s\n", err.c_str());
        return 2;
    }
    if (co.help) {
        std::printf("%s", apps::usage("fg-synresponder", what, rows).c_str());
        return 0;
    }
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
    if (!apps::resolve_port(co.port, sc.port_id, err)) {
        std::fprintf(stderr, "fg-synresponder: %s\n", err.c_str());
        return 1;
    }
    apps::apply_common(sc, co);
    core::stack* st = rt->add_stack(sc, err);
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
    rt->publish(*st, apps::tcp_telemetry(*st));
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
    uint64_t last_syn = 0;
    uint64_t last_synack = 0;
    uint64_t last_cookie_ok = 0;
    ro.stats_line = [&](double t, double iv) {
        const uint64_t syn = st->tcp_total(tcp::ctr::syn_received);
        const uint64_t synack = st->tcp_total(tcp::ctr::synack_sent);
        const uint64_t cookie_ok = st->tcp_total(tcp::ctr::cookies_accepted);
        const uint64_t conns = st->conns_in_use();
        const drop_view d = drops_of(*st);
        char buf[400];
        std::snprintf(buf, sizeof(buf),
                      "[fg-synresponder %6.1fs] syn in %s/s synack out %s/s | cookies sent %lu accepted %lu (%s/s) "
                      "rejected %lu | conns %lu | drops %lu (tx %lu loop %lu classify %lu tcp %lu)",
                      t, fmt_rate(double(syn - last_syn) / iv).c_str(), fmt_rate(double(synack - last_synack) / iv).c_str(),
                      (unsigned long)st->tcp_total(tcp::ctr::cookies_sent), (unsigned long)cookie_ok,
                      fmt_rate(double(cookie_ok - last_cookie_ok) / iv).c_str(),
                      (unsigned long)st->tcp_total(tcp::ctr::cookies_rejected), (unsigned long)conns,
                      (unsigned long)d.total(), (unsigned long)d.tx, (unsigned long)d.loop,
                      (unsigned long)d.classify, (unsigned long)d.tcp);
        last_syn = syn;
        last_synack = synack;
        last_cookie_ok = cookie_ok;
        return std::string(buf);
    };
    const double elapsed = rt->run(ro);

    const uint64_t syn = st->tcp_total(tcp::ctr::syn_received);
    const uint64_t synack = st->tcp_total(tcp::ctr::synack_sent);
    const drop_view d = drops_of(*st);
    const uint64_t conns = st->conns_in_use();
    std::printf("fg-synresponder: %lu SYNs in, %lu SYN-ACKs out (%lu with cookies) in %.2f s (%s/s), cookies "
                "accepted %lu, connections held %lu, drops %lu\n",
                (unsigned long)syn, (unsigned long)synack, (unsigned long)st->tcp_total(tcp::ctr::cookies_sent),
                elapsed, fmt_rate(double(synack) / (elapsed > 0 ? elapsed : 1)).c_str(),
                (unsigned long)st->tcp_total(tcp::ctr::cookies_accepted), (unsigned long)conns,
                (unsigned long)d.total());
    if (!co.json_path.empty()) {
        apps::json_object j;
        j.add("app", std::string("fg-synresponder"));
        j.add("elapsed_s", elapsed);
        j.add("syncookies", std::string(tcp::syncookie_mode_name(rs.lo.cookies)));
        apps::add_stack_counters(j, *st);
        apps::add_tcp_counters(j, *st);
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
        if (!j.write(co.json_path, err)) {
            std::fprintf(stderr, "fg-synresponder: %s\n", err.c_str());
        }
    }
    return 0;
}
