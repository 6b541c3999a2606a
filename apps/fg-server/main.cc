// fg-server: an accepting server on Floodgate, and the example of the
// application API.
//
//   fg-server [EAL options] -- --ip 198.18.0.2/24 --listen 80,443 [--backlog N]
//       [--syn-backlog N] [--syncookies auto|always|never] [--on-accept close|rst|hold]
//       [--app-threads N] [--http-body FILE | --http-bytes N] [--duration S] [--drain S] [--json FILE]
//
// With --http-body FILE (or --http-bytes N of generated text) the listeners
// serve HTTP/1.1 on the lcores themselves (lib/http's server, no application
// thread): 200 OK with that body and its Content-Length to every request,
// keep-alive as HTTP/1.1 says, 400 to garbage.
//
// The lcores run the TCP handshakes; accepted connections reach application
// threads (an Intel TBB arena of --app-threads workers) through each
// listener's accept ring, and the workers act on them through their handles:
// close (FIN), rst (abort) or hold (keep until the peer closes; a peer FIN is
// answered by our close, as an application closes on EOF).
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <tbb/task_arena.h>
#include <tbb/task_group.h>

#include <rte_pause.h>

#include "common/drain.hh"
#include "common/options.hh"
#include "common/runtime.hh"
#include "core/telemetry.hh"
#include "eal.hh"
#include "http/group.hh"
#include "port.hh"

using namespace fg;

namespace {

enum class on_accept { close, rst, hold };

struct server_options {
    std::vector<uint16_t> listen;
    tcp::listen_options lo;
    on_accept action = on_accept::close;
    unsigned app_threads = 1;
    uint32_t capacity = 1u << 20;
    bool http = false;
    std::string http_body_file;
    uint64_t http_bytes = 0;
    http::server_config hs;
};

bool read_file(const std::string& path, std::string& out, std::string& error)
{
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) {
        error = "cannot open " + path;
        return false;
    }
    out.clear();
    char buf[65536];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof(buf), f)) != 0) {
        out.append(buf, n);
        if (out.size() >= (1u << 30)) {
            std::fclose(f);
            error = path + " is 1 GiB or more";
            return false;
        }
    }
    const bool bad = std::ferror(f) != 0;
    std::fclose(f);
    if (bad) {
        error = "cannot read " + path;
        return false;
    }
    return true;
}

// What the application threads did; each worker has its own line.
struct alignas(64) app_counters {
    std::atomic<uint64_t> accepted{0};      // connections taken from accept rings
    std::atomic<uint64_t> closed{0};        // close() issued (on accept, or on the peer's FIN)
    std::atomic<uint64_t> aborted{0};       // abort() issued
    std::atomic<uint64_t> held{0};          // kept open
    std::atomic<uint64_t> peer_closed{0};   // peer FIN events
    std::atomic<uint64_t> resets{0};        // peer RST events
    std::atomic<uint64_t> freed{0};         // closed events (connection gone)
    std::atomic<uint64_t> cmd_retries{0};   // command ring full: retried
};

void issue(core::stack& st, bool (core::stack::*fn)(const tcp::handle&), const tcp::handle& h, app_counters& ac)
{
    while (!(st.*fn)(h)) {
        ac.cmd_retries.fetch_add(1, std::memory_order_relaxed);
        if (st.stopping()) {
            return;
        }
        rte_pause();
    }
}

void worker(core::stack& st, const std::vector<tcp::listener*>& ls, const server_options& so, app_counters& ac,
            unsigned id, unsigned n_workers)
{
    tcp::event ev[32];
    while (!st.stopping()) {
        unsigned got = 0;
        for (tcp::listener* l : ls) {
            const unsigned n = l->accept_burst(ev, 32);
            got += n;
            for (unsigned i = 0; i < n; i++) {
                ac.accepted.fetch_add(1, std::memory_order_relaxed);
                switch (so.action) {
                case on_accept::close:
                    issue(st, &core::stack::close, ev[i].h, ac);
                    ac.closed.fetch_add(1, std::memory_order_relaxed);
                    break;
                case on_accept::rst:
                    issue(st, &core::stack::abort, ev[i].h, ac);
                    ac.aborted.fetch_add(1, std::memory_order_relaxed);
                    break;
                case on_accept::hold:
                    ac.held.fetch_add(1, std::memory_order_relaxed);
                    break;
                }
            }
        }
        // Each lcore's event ring is read by one worker (workers split the lcores).
        for (uint16_t idx = uint16_t(id); idx < st.n_lcores(); idx = uint16_t(idx + n_workers)) {
            const unsigned n = st.poll_events(idx, ev, 32);
            got += n;
            for (unsigned i = 0; i < n; i++) {
                switch (ev[i].type) {
                case tcp::event_type::peer_closed:
                    ac.peer_closed.fetch_add(1, std::memory_order_relaxed);
                    issue(st, &core::stack::close, ev[i].h, ac);
                    ac.closed.fetch_add(1, std::memory_order_relaxed);
                    break;
                case tcp::event_type::reset:
                    ac.resets.fetch_add(1, std::memory_order_relaxed);
                    break;
                case tcp::event_type::closed:
                    ac.freed.fetch_add(1, std::memory_order_relaxed);
                    break;
                default:
                    break;
                }
            }
        }
        if (got == 0) {
            // Idle: give the core back to the lcores (these machines have two).
            std::this_thread::sleep_for(std::chrono::microseconds(50));
        }
    }
}

} // namespace

int main(int argc, char** argv)
{
    apps::common_options co;
    server_options so;
    std::vector<apps::option> rows = apps::common_option_rows(co);
    rows.push_back({"listen", true, "PORT[,PORT...]  TCP ports to listen on (any local address)",
                    [&](std::string_view v, std::string& e) { return apps::parse_port_list(v, so.listen, e); }});
    rows.push_back(apps::u64_option("backlog", "N  accept queue length per listener; default 4096", 1, 1u << 24, [&](uint64_t x) { so.lo.backlog = uint32_t(x); }));
    rows.push_back(apps::u64_option("syn-backlog", "N  half-open requests per listener (split over lcores); default 4096", 1, 1u << 26, [&](uint64_t x) { so.lo.syn_backlog = uint32_t(x); }));
    rows.push_back({"syncookies", true, "auto|always|never  SYN cookies (Linux tcp_syncookies 1|2|0); default auto",
                    [&](std::string_view v, std::string& e) {
                        if (!tcp::parse_syncookie_mode(v, so.lo.cookies)) {
                            e = "expected auto, always or never";
                            return false;
                        }
                        return true;
                    }});
    rows.push_back({"on-accept", true, "close|rst|hold  what the application does with an accepted connection",
                    [&](std::string_view v, std::string& e) {
                        if (v == "close") {
                            so.action = on_accept::close;
                        } else if (v == "rst") {
                            so.action = on_accept::rst;
                        } else if (v == "hold") {
                            so.action = on_accept::hold;
                        } else {
                            e = "expected close, rst or hold";
                            return false;
                        }
                        return true;
                    }});
    rows.push_back(apps::u64_option("app-threads", "N  application threads (TBB workers) taking accepted connections; default 1", 1, 64, [&](uint64_t x) { so.app_threads = unsigned(x); }));
    rows.push_back(apps::u64_option("max-conns", "N  connections per lcore (pool and table); default 1048576", 1024, 1u << 27, [&](uint64_t x) { so.capacity = uint32_t(x); }));
    rows.push_back({"http-body", true, "FILE  serve HTTP/1.1 on the lcores: 200 OK with this file as the body to every request",
                    [&](std::string_view v, std::string&) {
                        so.http = true;
                        so.http_body_file = std::string(v);
                        return true;
                    }});
    rows.push_back(apps::u64_option("http-bytes", "N  serve HTTP/1.1 with N bytes of generated text as the body", 0, (1u << 30) - 1, [&](uint64_t x) {
        so.http = true;
        so.http_bytes = x;
    }));
    rows.push_back(apps::u64_option("http-idle-ms", "MS  with HTTP: close a keep-alive connection idle this long; default 60000", 1, 3600000, [&](uint64_t x) { so.hs.idle_timeout_ms = uint32_t(x); }));
    rows.push_back(apps::u64_option("http-max-head", "N  with HTTP: request line and headers at most N bytes (else 400); default 8192", 16, 65535, [&](uint64_t x) { so.hs.max_head = uint32_t(x); }));
    const std::string what = "An accepting server on Floodgate: answers ARP and ping, listens on TCP ports and "
                             "hands accepted connections to application threads, or serves HTTP on the lcores.";

    const int early = apps::parse_args("fg-server", what, rows, co, argc, argv);
    if (early >= 0) {
        return early;
    }
    std::string err;
    if (co.ips.empty()) {
        std::fprintf(stderr, "fg-server: give at least one --ip ADDR/PLEN (see --help)\n");
        return 2;
    }
    http::server_group hserver; // outlives the runtime's stack (declared first, destroyed last)
    if (so.http) {
        if (!so.http_body_file.empty()) {
            if (so.http_bytes != 0) {
                std::fprintf(stderr, "fg-server: give --http-body or --http-bytes, not both\n");
                return 2;
            }
            if (!read_file(so.http_body_file, so.hs.body, err)) {
                std::fprintf(stderr, "fg-server: --http-body: %s\n", err.c_str());
                return 2;
            }
            so.hs.content_type = "application/octet-stream";
        } else {
            so.hs.body = http::generated_body(so.http_bytes);
        }
        if (!hserver.init(so.hs, err)) {
            std::fprintf(stderr, "fg-server: %s\n", err.c_str());
            return 2;
        }
        so.lo.on_accept = tcp::accept_action::serve;
    }
    core::stack_config sc;
    sc.name = "server";
    sc.tcp.capacity = so.capacity;
    if (so.http) {
        hserver.attach(sc);
    }
    std::unique_ptr<apps::runtime> rt = apps::runtime::start(argc, argv, 1024, err);
    if (!rt) {
        std::fprintf(stderr, "fg-server: %s\n", err.c_str());
        return 1;
    }
    core::stack* st = rt->add_port_stack(co, sc, err);
    if (st == nullptr) {
        std::fprintf(stderr, "fg-server: %s\n", err.c_str());
        return 1;
    }
    const glue::eal_result& eal = rt->eal();
    std::vector<tcp::listener*> listeners;
    for (uint16_t p : so.listen) {
        tcp::listener* l = rt->listen(*st, 0, p, so.lo, err);
        if (l == nullptr) {
            std::fprintf(stderr, "fg-server: listen on port %u: %s\n", p, err.c_str());
            return 1;
        }
        listeners.push_back(l);
    }
    rt->publish(*st, nullptr);
    if (!rt->capture(co, err)) {
        std::fprintf(stderr, "fg-server: %s\n", err.c_str());
        return 1;
    }
    std::printf("fg-server: port %u mac %02x:%02x:%02x:%02x:%02x:%02x, %u lcore(s), %s, listening on %zu port(s)\n",
                sc.port_id, st->mac().addr_bytes[0], st->mac().addr_bytes[1], st->mac().addr_bytes[2],
                st->mac().addr_bytes[3], st->mac().addr_bytes[4], st->mac().addr_bytes[5], st->n_lcores(),
                eal.hugepages ? "hugepages" : "no hugepages", listeners.size());
    std::fflush(stdout);

    // Application threads: a TBB arena of app_threads workers, each polling.
    app_counters ac;
    std::thread app([&] {
        glue::unpin_this_thread(); // TBB's workers inherit this thread's CPUs, not the main lcore's
        tbb::task_arena arena(int(so.app_threads));
        arena.execute([&] {
            tbb::task_group g;
            for (unsigned w = 0; w < so.app_threads; w++) {
                g.run([&, w] { worker(*st, listeners, so, ac, w, so.app_threads); });
            }
            g.wait();
        });
    });

    apps::run_options ro;
    ro.duration_s = co.duration_s;
    ro.stats_interval_s = co.stats_interval_s;
    core::counter_set last_line = st->counters();
    uint64_t last_req = 0;
    ro.stats_line = [&](double t, double iv) {
        const core::counter_set now = st->counters();
        const core::counter_set d = now.since(last_line);
        last_line = now;
        char buf[400];
        std::snprintf(buf, sizeof(buf),
                      "[fg-server %6.1fs] syn %.0f/s synack %.0f/s accepted %.0f/s (total %lu) | cookies sent %lu "
                      "ok %lu bad %lu | rst %lu | overflows acceptq %lu synq %lu | rx %.0f pps",
                      t, double(d[tcp::ctr::syn_received]) / iv, double(d[tcp::ctr::synack_sent]) / iv,
                      double(d[tcp::ctr::accepted]) / iv, (unsigned long)now[tcp::ctr::accepted],
                      (unsigned long)now[tcp::ctr::cookies_sent], (unsigned long)now[tcp::ctr::cookies_accepted],
                      (unsigned long)now[tcp::ctr::cookies_rejected], (unsigned long)now[tcp::ctr::rst_sent],
                      (unsigned long)now[tcp::ctr::accept_queue_overflows],
                      (unsigned long)now[tcp::ctr::syn_queue_overflows], double(d[core::ctr::rx_packets]) / iv);
        std::string line = buf;
        if (so.http) {
            const http::server_counters hc = hserver.counters();
            const uint64_t req = hc[http::server_ctr::requests];
            std::snprintf(buf, sizeof(buf), " | http requests %.0f/s (total %lu) 200 %lu 400 %lu",
                          double(req - last_req) / iv, (unsigned long)req,
                          (unsigned long)hc[http::server_ctr::responses_200],
                          (unsigned long)hc[http::server_ctr::responses_400]);
            last_req = req;
            line += buf;
        }
        return line;
    };
    apps::series series;
    core::counter_set last_sample = st->counters();
    double last_t = 0;
    ro.every_second = [&](double t) {
        const core::counter_set now = st->counters();
        apps::json_object o = apps::server_sample(t, t - last_t, now.since(last_sample), *st);
        series.add(o);
        last_sample = now;
        last_t = t;
    };
    // Draining (common/drain.hh): listeners closed, connections already
    // closing finish and TIME-WAIT expires; open ones are shown, not waited for.
    apps::drain_result drained;
    apps::drain_config dc;
    dc.app = "fg-server";
    dc.drain_s = co.drain_s;
    dc.wait_open = false;
    dc.begin = [&] { rt->stop_listening(); };
    apps::set_drain(ro, *st, dc, drained);
    const double elapsed = rt->run(ro);
    app.join();

    const core::counter_set total = st->counters();
    std::printf("fg-server: %lu SYNs, %lu accepted in %.2f s, %lu connections open at exit; application threads: "
                "%lu taken, %lu closed, %lu aborted, %lu held\n",
                (unsigned long)total[tcp::ctr::syn_received], (unsigned long)total[tcp::ctr::accepted], elapsed,
                (unsigned long)st->conns_in_use(), (unsigned long)ac.accepted.load(), (unsigned long)ac.closed.load(),
                (unsigned long)ac.aborted.load(), (unsigned long)ac.held.load());
    const std::string pcap = rt->capture_summary();
    if (!pcap.empty()) {
        std::printf("fg-server: %s\n", pcap.c_str());
    }
    if (!co.json_path.empty()) {
        apps::json_object j;
        j.add("app", "fg-server");
        j.add("version", apps::version());
        j.add("elapsed_s", elapsed);
        apps::json_object ex;
        ex.add("status", uint64_t(0));
        ex.add("reason", "ok");
        j.add_raw("exit", ex.str());
        apps::add_counters(j, total);
        apps::json_object a;
        a.add("accepted", ac.accepted.load());
        a.add("closed", ac.closed.load());
        a.add("aborted", ac.aborted.load());
        a.add("held", ac.held.load());
        a.add("peer_closed", ac.peer_closed.load());
        a.add("resets", ac.resets.load());
        a.add("freed", ac.freed.load());
        a.add("cmd_retries", ac.cmd_retries.load());
        j.add_raw("app_threads", a.str());
        if (so.http) {
            const http::server_counters hc = hserver.counters();
            apps::json_object hj;
            for (unsigned i = 0; i < http::n_server_counters; i++) {
                hj.add(http::server_counter_name(http::server_ctr(i)), hc.v[i]);
            }
            j.add_raw("http", hj.str());
            apps::json_object e;
            for (unsigned i = 1; i < http::n_parse_errors; i++) {
                e.add(http::parse_error_name(http::parse_error(i)), hc.errors[i]);
            }
            j.add_raw("http_request_errors", e.str());
        }
        j.add("connections_in_use", st->conns_in_use());
        apps::add_resolved(j, *st, co.resolve);
        rt->add_capture(j);
        apps::add_drain(j, drained);
        j.add_raw("series", series.str());
        if (!j.write(co.json_path, err)) {
            std::fprintf(stderr, "fg-server: %s\n", err.c_str());
            return 1;
        }
    }
    return 0;
}
