// bench-e2e-handshake: full TCP handshakes per second, Floodgate against the
// Linux kernel, on the same machine in one run.
//
//   bench-e2e-handshake -l 0-1 -- [--seconds S] [--only fg|floor|kernel] [--accept hold|app|both]
//       [--app-close rst|fin] [--concurrency N] [--kernel-inflight N] [--src-ips N]
//       [--http [--http-bytes N]] [--json FILE]
//
// With one lcore (-l 0) both Floodgate stacks share it (their loops
// interleaved) and the kernel's two threads share its CPU.
// (a) Floodgate: a client stack on lcore 0 and a responder stack on lcore 1,
//     wired back to back by a ring pair (what `fg-loadgen --responder` runs).
//     The client's bulk generator opens connections as fast as it can (up to
//     --concurrency in SYN-SENT), from --src-ips source addresses, and closes
//     each with RST once ESTABLISHED; the responder answers with SYN cookies
//     (always) and accepts on the lcore (accept_action::hold). Reported:
//     established/s and the responder's SYN-ACKs/s.
// (a2) The same with the real server path (--accept app or both): the
//     responder's listener queues each accepted connection on its accept
//     ring (accept_action::queue, 65536 deep) and an application thread (not pinned:
//     it shares a CPU with a polling lcore) takes them and aborts (RST, or
//     --app-close fin: closes) each through the stack API, as fg-server does.
// Both Floodgate runs end by draining: the generator stops, and the run
// waits until nothing is in flight on either side (connections, and frames
// one side sent that the other has not received); then both ends are
// reconciled (e2e::reconcile): established at the client == accepted
// (cookies accepted) at the responder (== taken by the application thread),
// or a loud MISMATCH with the counters that explain it. A mismatch the
// counters do not explain makes the exit status 3.
// (f) The floor (hs_floor.hh): the same frames per handshake (SYN, SYN-ACK,
//     ACK, RST) over the same kind of port pair with no TCP work -- templates
//     and in-place rewrites, no checksums, hashes, table, timers or events;
//     what the ring ports and the mbuf pool allow. Reported: handshakes/s and
//     Floodgate / floor (not with --http).
// (b) The kernel: a client thread pinned to lcore 0's CPU keeps --kernel-inflight
//     non-blocking connect()s to 127.0.0.1 in flight (epoll), a server thread
//     pinned to lcore 1's CPU accept()s; both close with SO_LINGER 0 (RST: no
//     TIME-WAIT, ports never run out). Reported: accepted/s.
// With --http both sides run one HTTP/1.1 exchange per connection, like
// dperf's HTTP CPS test but with Linux's handshake: (a) the client's
// generator connections carry lib/http's client (GET / on the handshake's
// last ACK, the whole response read, then RST) and the responder serves
// lib/http's server on the lcore (200 with --http-bytes of body); (b) the
// same request and response bytes between a kernel epoll client on lcore 0's CPU
// and an epoll server on lcore 1's (http_kernel.hh). Reported: complete 2xx
// responses per second on each side.
// Printed last: the ratio Floodgate / kernel, with the load average; and
// the same per second of CPU time on both sides -- the lcore threads' (they
// poll: their idle spins count; (a2) the application thread's too) against
// the kernel client and server threads' and ksoftirqd's on their CPUs --
// which a machine shared with other work skews far less: two polling lcores
// that pass every handshake back and forth stall whenever either is
// descheduled, blocking kernel threads lose less.
#include <sys/epoll.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>

#include <rte_ethdev.h>
#include <rte_lcore.h>

#include "common/options.hh"
#include "common/runtime.hh"
#include "e2e.hh"
#include "eal.hh"
#include "http/group.hh"
#include "hs_floor.hh"
#include "http_kernel.hh"
#include "port.hh"

using namespace fg;

namespace {

struct options {
    apps::bench_options b;         // --seconds, --ports, --json, --help, --version
    std::string only;              // "", "fg", "floor", "kernel"
    // Floodgate client: most connections in SYN-SENT at once. Each costs up to
    // three frames (SYN, ACK, RST) in the 4096-frame ring towards the responder:
    // more than ~1300 and the ring refuses SYNs (lost, retransmitted after 1 s).
    uint32_t concurrency = 256;
    double cps = 1e9;              // Floodgate client: token bucket rate (as fast as it goes)
    uint32_t src_ips = 256;        // Floodgate client: source addresses (28k ports each)
    uint32_t kernel_inflight = 4096; // kernel client: connect()s in flight
    uint32_t mbufs = 0;            // 0: drivers-glue's default pool (65535 mbufs)
    bool http = false;             // one HTTP exchange per connection on both sides
    uint64_t http_bytes = 128;     // the response body
    bool hold_path = true;         // --accept hold|both: (a), accepted on the lcore
    bool app_path = true;          // --accept app|both: (a2), an accept ring and an application thread
    e2e::app_close app_close = e2e::app_close::rst; // (a2): what the application does with each connection
    double drain_s = 10;           // most time given to the in-flight handshakes at the end
};

// How the responder's accepted connections leave the lcore.
enum class accept_path { hold, app };

double median(std::vector<double> v)
{
    if (v.empty()) {
        return 0;
    }
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

// ---- (a) Floodgate ----
struct fg_result {
    bool ok = false;
    double elapsed = 0;
    uint64_t established = 0;
    uint64_t attempted = 0;
    uint64_t synacks = 0;        // responder SYN-ACKs sent
    uint64_t cookies_ok = 0;     // responder cookie ACKs accepted
    uint64_t timeouts = 0;
    uint64_t syn_retransmits = 0;
    uint64_t tx_dropped = 0;     // both stacks: frames the ring refused
    std::vector<double> est_per_s; // one sample per second (--http: complete 2xx responses)
    double median_est = 0;
    uint64_t responses_ok = 0;     // --http
    uint64_t requests = 0;
    uint64_t http_failed = 0;      // --http: requests that ended any other way
    uint32_t response_p50 = 0;
    uint32_t response_p99 = 0;
    uint64_t established_at_stop = 0; // when the run proper ended (the rate's numerator; drained ones come after)
    double drain_s = 0;               // how long the in-flight handshakes took to finish
    e2e::reconciliation rec;
    e2e::app_counts app;              // (a2): what the application thread did
    // CPU time over the run proper (until the generator stops): the lcore
    // threads that ran the two stacks (they poll: idle spins count) and (a2)
    // the application thread. 0 when unknown.
    double lcore_cpu_s = 0;
    double app_cpu_s = 0;
    double cpu_s() const { return lcore_cpu_s + app_cpu_s; }
    double per_cpu_s() const { return cpu_s() > 0 ? double(established) / cpu_s() : 0; }
    uint64_t accept_overflows = 0;    // third ACKs ignored: the accept ring was full
};

// --http: the client and server of both stacks; they outlive the runtime's stacks.
struct http_side {
    http::client_group client;
    http::server_group server;
};

// (a) with accept_path::hold (--http: served on the lcore), (a2) with accept_path::app.
fg_result run_floodgate(apps::runtime& rt, const options& o, accept_path path, http_side& hs)
{
    fg_result r;
    const std::vector<unsigned> lcores = rt.lcores();
    std::string err;
    const uint32_t server_ip = ipv4(198, 18, 0, 2);
    const bool app = path == accept_path::app;
    apps::pair_config pc;
    pc.kind = o.b.ports;
    pc.name = app ? "hsq" : "hs";
    pc.server.name = app ? "hsq_resp" : "hs_resp";
    pc.server.lcores = {lcores.size() > 1 ? lcores[1] : lcores[0]}; // one lcore: both stacks on it, interleaved
    pc.server.addrs.push_back(route::addr_range{server_ip, server_ip, 16});
    pc.client.name = app ? "hsq_client" : "hs_client";
    pc.client.lcores = {lcores[0]};
    const uint32_t first = ipv4(198, 18, 1, 0);
    pc.client.addrs.push_back(route::addr_range{first, first + o.src_ips - 1, 16});
    pc.client.gen.close = gen::close_mode::rst;
    pc.client.gen.cps = o.cps;
    pc.client.gen.concurrency = o.concurrency;
    pc.client.gen.targets.push_back(make_tuple4(0, 0, server_ip, 80));
    for (uint32_t a = 0; a < o.src_ips; a++) {
        pc.client.gen.laddrs.push_back(rte_cpu_to_be_32(first + a));
    }
    if (o.http) {
        http::server_config scfg;
        scfg.body = http::generated_body(o.http_bytes);
        http::client_config hc;
        hc.targets = pc.client.gen.targets;
        if (!hs.server.init(scfg, err) || !hs.client.init(hc, err)) {
            std::fprintf(stderr, "bench-e2e-handshake: %s\n", err.c_str());
            return r;
        }
        hs.server.attach(pc.server);
        hs.client.attach(pc.client);
    }
    apps::stack_pair sp;
    if (!rt.add_pair(pc, sp, err)) {
        std::fprintf(stderr, "bench-e2e-handshake: %s\n", err.c_str());
        return r;
    }
    core::stack* st = sp.client;
    core::stack* resp = sp.server;
    tcp::listen_options lo;
    lo.cookies = tcp::syncookie_mode::always;
    lo.on_accept = app ? tcp::accept_action::queue
                       : o.http ? tcp::accept_action::serve : tcp::accept_action::hold;
    // (a2): an accept ring of 65536, the kernel side's listen() backlog: the
    // application thread shares a CPU with a polling lcore and is away for
    // whole scheduler slices (Linux's 4096 holds ~4 ms of this rate).
    lo.backlog = 65536;
    tcp::listener* lst = rt.listen(*resp, 0, 80, lo, err);
    if (lst == nullptr) {
        std::fprintf(stderr, "bench-e2e-handshake: listen: %s\n", err.c_str());
        return r;
    }
    e2e::app_thread at; // (a2) only; stopped when this returns, after the lcores
    if (app) {
        at.start(*resp, *lst, o.app_close);
    }

    apps::run_options ro;
    ro.duration_s = o.b.seconds;
    ro.stats_interval_s = 1;
    uint64_t last = 0;
    ro.stats_line = [&](double t, double iv) {
        const uint64_t est = o.http ? hs.client.counters()[http::client_ctr::responses_ok]
                                    : st->tcp_total(tcp::ctr::established);
        const double rate = double(est - last) / iv;
        r.est_per_s.push_back(rate);
        last = est;
        char b[200];
        std::snprintf(b, sizeof(b), "  [fg %4.1fs] %s %s/s, SYN-ACKs %s total, timeouts %lu", t,
                      o.http ? "HTTP exchanges (2xx)" : "established", e2e::fmt_rate(rate).c_str(),
                      e2e::fmt_rate(double(resp->tcp_total(tcp::ctr::synack_sent))).c_str(),
                      (unsigned long)st->tcp_total(tcp::ctr::timed_out));
        return std::string(b);
    };
    // Draining: no new connections; wait for every handshake in flight, the
    // client's RSTs and (a2) the application thread's queue to be done.
    ro.drain_s = o.drain_s;
    // The lcore threads' CPU time: read now (they wait for work, idle) and
    // when the generator stops.
    std::vector<unsigned> used = {st->lc(0).lcore_id};
    if (resp->lc(0).lcore_id != used[0]) {
        used.push_back(resp->lc(0).lcore_id);
    }
    const std::vector<pid_t> tids = e2e::lcore_tids(used);
    auto lcores_ns = [&] {
        uint64_t ns = 0;
        for (pid_t t : tids) {
            ns += e2e::schedstat_ns(t);
        }
        return ns;
    };
    const bool tids_known = std::find(tids.begin(), tids.end(), pid_t(0)) == tids.end();
    const uint64_t cpu0 = lcores_ns();
    const double app0 = at.cpu_s();
    ro.drain_begin = [&] {
        r.established_at_stop = st->tcp_total(tcp::ctr::established);
        st->stop_generator();
        // Both or nothing: a figure per CPU second needs every thread's time.
        r.lcore_cpu_s = tids_known ? double(lcores_ns() - cpu0) * 1e-9 : 0;
        r.app_cpu_s = tids_known && app ? at.cpu_s() - app0 : 0;
    };
    // In flight: connections on either side, and frames one side sent that the
    // other has not received yet (still in the port pair's rings: a loaded
    // machine can leave hundreds there after both sides freed everything).
    auto on_the_wire = [&] {
        const uint64_t c_tx = st->core_total(core::ctr::tx_packets);
        const uint64_t r_rx = resp->core_total(core::ctr::rx_packets);
        const uint64_t r_tx = resp->core_total(core::ctr::tx_packets);
        const uint64_t c_rx = st->core_total(core::ctr::rx_packets);
        return (c_tx > r_rx ? c_tx - r_rx : 0) + (r_tx > c_rx ? r_tx - c_rx : 0);
    };
    auto in_flight = [&] {
        return st->generator_in_flight() + st->conns_in_use() + resp->conns_in_use() + lst->accept_pending() +
               on_the_wire();
    };
    // A frame still in an lcore's tx batch is not counted sent yet: drained
    // only when nothing is in flight at two polls between which both loops
    // ran at least 10,000 iterations (any partial batch flushed, drain_us).
    uint64_t quiet_loops_c = 0;
    uint64_t quiet_loops_r = 0;
    bool quiet = false;
    ro.drained = [&] {
        const uint64_t lc = st->core_total(core::ctr::loops);
        const uint64_t lr = resp->core_total(core::ctr::loops);
        if (in_flight() != 0) {
            quiet = false;
            return false;
        }
        if (!quiet) {
            quiet = true;
            quiet_loops_c = lc;
            quiet_loops_r = lr;
            return false;
        }
        return lc >= quiet_loops_c + 10000 && lr >= quiet_loops_r + 10000;
    };
    ro.drain_line = [&](double t, apps::drain_end) {
        r.drain_s = t;
        char b[200];
        std::snprintf(b, sizeof(b), "  [fg draining %4.1fs] client %lu open (generator %lu in flight), responder %lu open, "
                      "%u in the accept ring, %lu frames on the wire",
                      t, (unsigned long)st->conns_in_use(), (unsigned long)st->generator_in_flight(),
                      (unsigned long)resp->conns_in_use(), lst->accept_pending(), (unsigned long)on_the_wire());
        return std::string(b);
    };
    r.elapsed = apps::run({st, resp}, ro);
    const bool drained = in_flight() == 0;
    at.stop();
    r.app = at.stats().read();
    r.rec = e2e::reconcile(app ? "(a2) accept ring + application thread" : "(a) accepted on the lcore", *st, *resp,
                           app ? &r.app : nullptr, drained);
    if (r.established_at_stop == 0) {
        r.established_at_stop = st->tcp_total(tcp::ctr::established); // stopped by a signal before draining
    }
    r.established = r.established_at_stop;
    r.attempted = st->tcp_total(tcp::ctr::attempted);
    r.timeouts = st->tcp_total(tcp::ctr::timed_out);
    r.syn_retransmits = st->tcp_total(tcp::ctr::syn_retransmits);
    r.synacks = resp->tcp_total(tcp::ctr::synack_sent);
    r.cookies_ok = resp->tcp_total(tcp::ctr::cookies_accepted);
    r.accept_overflows = resp->tcp_total(tcp::ctr::accept_queue_overflows);
    r.tx_dropped = st->core_total(core::ctr::tx_dropped) + resp->core_total(core::ctr::tx_dropped);
    if (o.http) {
        const http::client_counters hc = hs.client.counters();
        const tcp::rtt_histogram lat = hs.client.latency();
        r.responses_ok = hc[http::client_ctr::responses_ok];
        r.requests = hc[http::client_ctr::requests_sent];
        r.http_failed = r.requests - r.responses_ok - hc.pending();
        r.response_p50 = lat.percentile(50);
        r.response_p99 = lat.percentile(99);
    }
    // The first second includes the ramp-up: the median of the others.
    std::vector<double> steady(r.est_per_s.size() > 1 ? r.est_per_s.begin() + 1 : r.est_per_s.begin(),
                               r.est_per_s.end());
    r.median_est = median(steady);
    r.ok = true; // the runtime takes the listener, the stacks and the ports down at exit
    return r;
}

// ---- (b) the kernel ----
// ---- (f) the handshake floor (hs_floor.hh) ----
struct floor_result {
    bool ok = false;
    double elapsed = 0;
    uint64_t handshakes = 0;
    std::vector<double> per_s; // one sample per second
    double median = 0;         // of the samples after the first
};

struct floor_arg {
    e2e::hs_floor_responder* resp;
    const std::atomic<bool>* stop;
    e2e::hs_floor_stats* stats;
};

int floor_respond_main(void* p)
{
    auto* a = static_cast<floor_arg*>(p);
    while (!a->stop->load(std::memory_order_relaxed)) {
        a->resp->step(*a->stats);
    }
    return 0;
}

// The floor's client on the main lcore (lcore 0), its responder on the second
// (one lcore: both, step by step), for --seconds; then both ports emptied.
floor_result run_hs_floor(apps::runtime& rt, const options& o, e2e::hs_floor_stats& cs, e2e::hs_floor_stats& rs)
{
    floor_result r;
    const std::vector<unsigned> lcores = rt.lcores();
    const bool shared = lcores.size() < 2;
    std::string err;
    uint16_t pa = 0;
    uint16_t pb = 0;
    rte_ether_addr ma{};
    rte_ether_addr mb{};
    if (!e2e::raw_port_pair(rt, o.b.ports, "hsfl", pa, pb, ma, mb, err)) {
        std::fprintf(stderr, "bench-e2e-handshake: floor ports: %s\n", err.c_str());
        return r;
    }
    e2e::hs_floor_config c;
    c.port_id = pa;
    c.pool = glue::mbuf_pool(0, 0, err);
    if (c.pool == nullptr) {
        std::fprintf(stderr, "bench-e2e-handshake: floor: %s\n", err.c_str());
        return r;
    }
    c.src_mac = ma;
    c.dst_mac = mb;
    c.window = o.concurrency;
    c.src_ips = o.src_ips;
    std::atomic<bool> stop{false};
    e2e::hs_floor_responder resp(pb, c.pool);
    floor_arg fa{&resp, &stop, &rs};
    if (!shared && rte_eal_remote_launch(floor_respond_main, &fa, lcores[1]) != 0) {
        std::fprintf(stderr, "bench-e2e-handshake: floor: lcore %u is busy\n", lcores[1]);
        return r;
    }
    {
        e2e::hs_floor_client cl(c);
        const double t0 = e2e::now_s();
        double next = t0 + 1;
        uint64_t last = 0;
        for (uint32_t i = 1;; i++) {
            cl.step(cs);
            if (shared) {
                resp.step(rs);
            }
            if ((i & 1023) != 0) {
                continue;
            }
            const double now = e2e::now_s();
            if (now < next) {
                continue;
            }
            const uint64_t h = cs.handshakes.load(std::memory_order_relaxed);
            const double rate = double(h - last) / (now - (next - 1));
            r.per_s.push_back(rate);
            std::printf("  [floor %4.1fs] handshakes %s/s\n", now - t0, e2e::fmt_rate(rate).c_str());
            std::fflush(stdout);
            last = h;
            next = now + 1;
            if (now - t0 >= o.b.seconds - 1e-3) {
                r.elapsed = now - t0;
                r.handshakes = h;
                break;
            }
        }
    }
    stop.store(true);
    if (!shared) {
        rte_eal_wait_lcore(lcores[1]);
    }
    // What is still in the rings goes back to the pool.
    const double until = e2e::now_s() + 0.05;
    while (e2e::now_s() < until) {
        for (uint16_t p : {pa, pb}) {
            rte_mbuf* m[32];
            const uint16_t n = rte_eth_rx_burst(p, 0, m, 32);
            if (n > 0) {
                rte_pktmbuf_free_bulk(m, n);
            }
        }
    }
    std::vector<double> steady(r.per_s.size() > 1 ? r.per_s.begin() + 1 : r.per_s.begin(), r.per_s.end());
    r.median = median(steady);
    r.ok = r.elapsed > 0;
    return r;
}

struct kernel_result {
    bool ok = false;
    double elapsed = 0;
    uint64_t accepted = 0;
    uint64_t connected = 0;   // client saw the connect complete (EPOLLOUT without error)
    uint64_t reset_first = 0; // client saw the server's RST (after accept) before its own EPOLLOUT
    uint64_t failures = 0;    // socket()/connect() failed
    std::vector<double> acc_per_s;
    double median_acc = 0;
    double cpu_s = 0;         // the client and server threads' CPU time + ksoftirqd on their CPUs
    double threads_cpu_s = 0;
    double ksoftirqd_cpu_s = 0;
    double per_cpu_s() const { return cpu_s > 0 ? double(accepted) / cpu_s : 0; }
};

double thread_clock_s(std::thread& t)
{
    clockid_t id{};
    if (pthread_getcpuclockid(t.native_handle(), &id) != 0) {
        return 0;
    }
    timespec ts{};
    clock_gettime(id, &ts);
    return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

void set_linger0(int fd)
{
    const linger lg{1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
}

kernel_result run_kernel(const options& o, unsigned client_cpu, unsigned server_cpu)
{
    kernel_result r;
    const int lfd = socket(AF_INET, SOCK_STREAM, 0);
    if (lfd < 0) {
        std::perror("socket");
        return r;
    }
    const int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = 0;
    if (bind(lfd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0 || listen(lfd, 65535) != 0) {
        std::perror("bind/listen");
        close(lfd);
        return r;
    }
    socklen_t sl = sizeof(sa);
    getsockname(lfd, reinterpret_cast<sockaddr*>(&sa), &sl);

    std::atomic<bool> stop{false};
    std::atomic<uint64_t> accepted{0};
    std::atomic<uint64_t> connected{0};
    std::atomic<uint64_t> reset_first{0};
    std::atomic<uint64_t> failures{0};
    std::thread server([&] {
        e2e::pin_this_thread(server_cpu);
        while (!stop.load(std::memory_order_relaxed)) {
            const int fd = accept4(lfd, nullptr, nullptr, 0);
            if (fd < 0) {
                if (errno == EINTR || errno == ECONNABORTED) {
                    continue;
                }
                break; // shutdown() of the listener at the end: EINVAL
            }
            set_linger0(fd);
            close(fd);
            accepted.fetch_add(1, std::memory_order_relaxed);
        }
    });
    std::thread client([&] {
        e2e::pin_this_thread(client_cpu);
        const int ep = epoll_create1(0);
        std::vector<epoll_event> evs(512);
        uint32_t in_flight = 0;
        std::vector<int> open_fds;
        while (!stop.load(std::memory_order_relaxed)) {
            while (in_flight < o.kernel_inflight) {
                const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
                if (fd < 0) {
                    failures.fetch_add(1, std::memory_order_relaxed);
                    break;
                }
                set_linger0(fd);
                if (connect(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof(sa)) != 0 && errno != EINPROGRESS) {
                    failures.fetch_add(1, std::memory_order_relaxed);
                    close(fd);
                    break;
                }
                epoll_event ev{};
                ev.events = EPOLLOUT;
                ev.data.fd = fd;
                epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
                in_flight++;
            }
            const int n = epoll_wait(ep, evs.data(), int(evs.size()), 10);
            for (int i = 0; i < n; i++) {
                if (evs[i].events & EPOLLERR) {
                    reset_first.fetch_add(1, std::memory_order_relaxed);
                } else {
                    connected.fetch_add(1, std::memory_order_relaxed);
                }
                close(evs[i].data.fd); // also leaves the epoll set
                in_flight--;
            }
        }
        close(ep);
        // Sockets still connecting are closed with the process (few thousand).
    });
    // CPU time: both threads, and ksoftirqd on their CPUs (softirq work
    // that left the threads' context: loopback runs most of it in the sender's).
    std::vector<pid_t> ksoft = {e2e::ksoftirqd_pid(client_cpu)};
    if (server_cpu != client_cpu) {
        ksoft.push_back(e2e::ksoftirqd_pid(server_cpu));
    }
    auto ksoft_ns = [&] {
        uint64_t ns = 0;
        for (pid_t p : ksoft) {
            ns += e2e::schedstat_ns(p);
        }
        return ns;
    };
    const double thr0 = thread_clock_s(client) + thread_clock_s(server);
    const uint64_t ks0 = ksoft_ns();
    const double t0 = e2e::now_s();
    uint64_t last = 0;
    for (double next = 1; next <= o.b.seconds + 1e-9; next += 1) {
        while (e2e::now_s() - t0 < next) {
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        const uint64_t a = accepted.load(std::memory_order_relaxed);
        r.acc_per_s.push_back(double(a - last));
        std::printf("  [kernel %4.1fs] accepted %s/s, client saw connected %lu, reset first %lu, failures %lu\n",
                    next, e2e::fmt_rate(double(a - last)).c_str(), (unsigned long)connected.load(),
                    (unsigned long)reset_first.load(), (unsigned long)failures.load());
        std::fflush(stdout);
        last = a;
    }
    r.threads_cpu_s = thread_clock_s(client) + thread_clock_s(server) - thr0;
    r.ksoftirqd_cpu_s = double(ksoft_ns() - ks0) * 1e-9;
    r.cpu_s = r.threads_cpu_s + r.ksoftirqd_cpu_s;
    stop.store(true);
    r.elapsed = e2e::now_s() - t0;
    r.accepted = accepted.load();
    shutdown(lfd, SHUT_RDWR);
    client.join();
    server.join();
    close(lfd);
    r.connected = connected.load();
    r.reset_first = reset_first.load();
    r.failures = failures.load();
    std::vector<double> steady(r.acc_per_s.size() > 1 ? r.acc_per_s.begin() + 1 : r.acc_per_s.begin(),
                               r.acc_per_s.end());
    r.median_acc = median(steady);
    r.ok = true;
    return r;
}

} // namespace

int main(int argc, char** argv)
{
    options o;
    std::vector<apps::option> rows = apps::bench_option_rows(o.b);
    rows.push_back({"only", true, "fg|floor|kernel  run one part only", [&](std::string_view v, std::string& e) {
                        if (v != "fg" && v != "floor" && v != "kernel") {
                            e = "expected fg, floor or kernel";
                            return false;
                        }
                        o.only = std::string(v);
                        return true;
                    }});
    rows.push_back({"accept", true, "hold|app|both  Floodgate runs: accepted on the lcore (a), through the accept ring "
                                    "to an application thread (a2), or both (default)",
                    [&](std::string_view v, std::string& e) {
                        if (v != "hold" && v != "app" && v != "both") {
                            e = "expected hold, app or both";
                            return false;
                        }
                        o.hold_path = v != "app";
                        o.app_path = v != "hold";
                        return true;
                    }});
    rows.push_back({"app-close", true, "rst|fin  (a2): the application thread aborts (default) or closes each connection",
                    [&](std::string_view v, std::string& e) {
                        if (v != "rst" && v != "fin") {
                            e = "expected rst or fin";
                            return false;
                        }
                        o.app_close = v == "rst" ? e2e::app_close::rst : e2e::app_close::fin;
                        return true;
                    }});
    rows.push_back({"concurrency", true, "N  Floodgate client: most connections in SYN-SENT; default 256 (the ring holds 4096 frames)",
                    [&](std::string_view v, std::string& e) {
                        uint64_t x;
                        if (!apps::parse_u64(v, 1, 1u << 24, x, e)) {
                            return false;
                        }
                        o.concurrency = uint32_t(x);
                        return true;
                    }});
    rows.push_back({"cps", true, "N  Floodgate client: connections per second asked for; default 1e9 (no limit)",
                    [&](std::string_view v, std::string& e) { return apps::parse_double(v, 1, 1e10, o.cps, e); }});
    rows.push_back({"src-ips", true, "N  Floodgate client: source addresses; default 256",
                    [&](std::string_view v, std::string& e) {
                        uint64_t x;
                        if (!apps::parse_u64(v, 1, 65000, x, e)) {
                            return false;
                        }
                        o.src_ips = uint32_t(x);
                        return true;
                    }});
    rows.push_back({"kernel-inflight", true, "N  kernel client: connect()s in flight; default 4096",
                    [&](std::string_view v, std::string& e) {
                        uint64_t x;
                        if (!apps::parse_u64(v, 1, 60000, x, e)) {
                            return false;
                        }
                        o.kernel_inflight = uint32_t(x);
                        return true;
                    }});
    rows.push_back({"mbufs", true, "N  size of the mbuf pool (made before any port); default: drivers-glue's (65535)",
                    [&](std::string_view v, std::string& e) {
                        uint64_t x;
                        if (!apps::parse_u64(v, 4095, 1u << 24, x, e)) {
                            return false;
                        }
                        o.mbufs = uint32_t(x);
                        return true;
                    }});
    rows.push_back({"http", false, "one HTTP/1.1 exchange per connection on both sides (HTTP connections/s)",
                    [&](std::string_view, std::string&) {
                        o.http = true;
                        return true;
                    }});
    rows.push_back(apps::u64_option("http-bytes", "N  with --http: response body bytes; default 128", 0, 1u << 20,
                                    [&](uint64_t x) { o.http_bytes = x; }));
    const int early = apps::parse_args("bench-e2e-handshake",
                                       "Handshakes per second: Floodgate client + responder lcores on a port pair vs "
                                       "the kernel's loopback connect()+accept(), same machine, one run.",
                                       rows, o.b.help, o.b.version, argc, argv);
    if (early >= 0) {
        return early;
    }
    if (o.http) {
        if (!o.hold_path) {
            std::fprintf(stderr, "bench-e2e-handshake: --http serves on the lcore: --accept app does not apply\n");
            return 2;
        }
        o.app_path = false; // (a2) is the accept-ring path of plain handshakes
    }
    std::string err;
    http_side hs; // outlives the runtime's stacks
    std::unique_ptr<apps::runtime> rt = apps::runtime::start(argc, argv, 2048, err, o.b.ports);
    if (!rt) {
        std::fprintf(stderr, "bench-e2e-handshake: %s\n", err.c_str());
        return 1;
    }
    const glue::eal_result& eal = rt->eal();
    if (o.mbufs != 0 && glue::mbuf_pool(0, o.mbufs, err) == nullptr) {
        std::fprintf(stderr, "%s: %s\n", "bench-e2e-handshake", err.c_str());
        return 1;
    }
    // Two lcores: the client on the first, the responder on the second; the
    // kernel's client and server threads on their CPUs. One lcore: both
    // stacks on it (interleaved loop by loop), both kernel threads on its CPU.
    const std::vector<unsigned> lcs = rt->lcores();
    const bool one_lcore = lcs.size() < 2;
    const unsigned client_cpu = rte_lcore_to_cpu_id(int(lcs[0]));
    const unsigned server_cpu = rte_lcore_to_cpu_id(int(lcs[one_lcore ? 0 : 1]));
    std::printf("bench-e2e-handshake: %s, nr_hugepages %u, load average %s, %.0f s per part%s\n",
                eal.hugepages ? "hugepages" : "no hugepages", e2e::hugepages_2m_total(), e2e::load_average().c_str(),
                o.b.seconds,
                one_lcore ? "; ONE lcore: client and responder share it (and the kernel's client and server threads "
                            "share its CPU)"
                          : "");
    const char* fg_where = one_lcore ? "client and responder stacks on one lcore" : "client lcore + responder lcore";
    fg_result f;
    fg_result fq; // (a2)
    kernel_result k;
    e2e::kernel_http_result kh;
    if (o.http) {
        std::printf("HTTP: GET / and a 200 response with %lu body bytes per connection, closed with RST after it\n",
                    (unsigned long)o.http_bytes);
    }
    const double n_lcores = one_lcore ? 1 : 2;
    auto print_fg = [&](const fg_result& r) {
        std::printf("    established %lu in %.2f s = %s/s (steady median %s/s), attempted %lu, timed out %lu, "
                    "SYN retransmits %lu, responder SYN-ACKs %s/s, cookies accepted %lu, tx refused %lu; drained in "
                    "%.1f s\n",
                    (unsigned long)r.established, r.elapsed, e2e::fmt_rate(double(r.established) / r.elapsed).c_str(),
                    e2e::fmt_rate(r.median_est).c_str(), (unsigned long)r.attempted, (unsigned long)r.timeouts,
                    (unsigned long)r.syn_retransmits, e2e::fmt_rate(double(r.synacks) / r.elapsed).c_str(),
                    (unsigned long)r.cookies_ok, (unsigned long)r.tx_dropped, r.drain_s);
        if (r.cpu_s() > 0) {
            char app_part[64] = "";
            if (r.app_cpu_s > 0) {
                std::snprintf(app_part, sizeof(app_part), ", the application thread %.2f s", r.app_cpu_s);
            }
            std::printf("    CPU: the lcore thread(s) ran %.2f s%s of the %.2f s (lcores on %.0f%% of %s): %s handshakes "
                        "per CPU second\n",
                        r.lcore_cpu_s, app_part, r.elapsed, 100 * r.lcore_cpu_s / r.elapsed / n_lcores,
                        n_lcores == 1 ? "a CPU" : "two CPUs", e2e::fmt_rate(r.per_cpu_s()).c_str());
        }
    };
    if ((o.only == "" || o.only == "fg") && o.hold_path) {
        std::printf("(a) Floodgate: %s, %s, cookies always, close rst, "
                    "concurrency %u, %u source addresses, accepted on the lcore (%s)\n",
                    fg_where, apps::pair_kind_name(o.b.ports), o.concurrency, o.src_ips, o.http ? "served: HTTP" : "hold");
        std::fflush(stdout);
        f = run_floodgate(*rt, o, accept_path::hold, hs);
        if (!f.ok) {
            return 1;
        }
        print_fg(f);
        if (o.http) {
            std::printf("    HTTP: %lu requests, %lu complete 2xx responses in %.2f s = %s/s (steady median %s/s), "
                        "%lu ended otherwise; response p50 %u us p99 %u us\n",
                        (unsigned long)f.requests, (unsigned long)f.responses_ok, f.elapsed,
                        e2e::fmt_rate(double(f.responses_ok) / f.elapsed).c_str(), e2e::fmt_rate(f.median_est).c_str(),
                        (unsigned long)f.http_failed, f.response_p50, f.response_p99);
        }
    }
    if ((o.only == "" || o.only == "fg") && o.app_path) {
        std::printf("(a2) Floodgate: the same, the responder's accept ring drained by an application thread that %s "
                    "each connection (stack API)\n",
                    o.app_close == e2e::app_close::rst ? "aborts (RST)" : "closes (FIN)");
        std::fflush(stdout);
        fq = run_floodgate(*rt, o, accept_path::app, hs);
        if (!fq.ok) {
            return 1;
        }
        print_fg(fq);
        std::printf("    application thread: took %lu, %s %lu (command ring full %lu times); events: reset %lu, closed "
                    "%lu, peer FIN %lu; idle polls %lu\n",
                    (unsigned long)fq.app.taken, o.app_close == e2e::app_close::rst ? "aborted" : "closed",
                    (unsigned long)fq.app.commands, (unsigned long)fq.app.cmd_retries,
                    (unsigned long)fq.app.resets, (unsigned long)fq.app.closed,
                    (unsigned long)fq.app.peer_closed, (unsigned long)fq.app.idle);
    }
    if ((o.only == "" || o.only == "kernel") && o.http) {
        std::printf("(b) kernel: loopback, epoll client thread on CPU %u (%u in flight: connect, request, whole "
                    "response, close with SO_LINGER 0), epoll server thread on CPU %u\n",
                    client_cpu, o.kernel_inflight, server_cpu);
        std::fflush(stdout);
        http::server_config scfg;
        scfg.body = http::generated_body(o.http_bytes);
        http::server_templates tm;
        if (!tm.build(scfg, err)) {
            std::fprintf(stderr, "bench-e2e-handshake: %s\n", err.c_str());
            return 1;
        }
        const tcp::tx_template& ok = tm.templates()[http::server_templates::ok_keep];
        kh = e2e::run_kernel_http(o.b.seconds, o.kernel_inflight, http::make_request("/", ipv4(198, 18, 0, 2), 80),
                                  std::string(reinterpret_cast<const char*>(ok.data), ok.len), client_cpu,
                                  server_cpu);
        if (!kh.ok) {
            return 1;
        }
        std::printf("    HTTP exchanges %lu in %.2f s = %s/s (steady median %s/s); server answered %lu, client errors "
                    "%lu, server errors %lu\n",
                    (unsigned long)kh.completed, kh.elapsed, e2e::fmt_rate(double(kh.completed) / kh.elapsed).c_str(),
                    e2e::fmt_rate(kh.median).c_str(), (unsigned long)kh.served, (unsigned long)kh.client_errors,
                    (unsigned long)kh.server_errors);
        if (f.ok && kh.completed > 0 && kh.median > 0) {
            std::printf("RATIO Floodgate / kernel, HTTP connections/s: %.1fx (whole runs), %.1fx (steady medians); "
                        "load average now %s\n",
                        (double(f.responses_ok) / f.elapsed) / (double(kh.completed) / kh.elapsed),
                        f.median_est / kh.median, e2e::load_average().c_str());
        }
    }
    e2e::hs_floor_stats fcs;
    e2e::hs_floor_stats frs;
    floor_result fl;
    if ((o.only == "" || o.only == "floor") && !o.http) {
        std::printf("(f) floor: the same frames over the same kind of port pair with no TCP work (client lcore: SYN and "
                    "RST from templates, each SYN-ACK turned into the ACK in place; responder lcore: each SYN turned "
                    "into the SYN-ACK in place, ACKs and RSTs freed; no checksums, hashes, table or timers), window "
                    "%u\n",
                    o.concurrency);
        std::fflush(stdout);
        fl = run_hs_floor(*rt, o, fcs, frs);
        if (!fl.ok) {
            return 1;
        }
        std::printf("    handshakes %lu in %.2f s = %s/s (steady median %s/s); client SYNs %lu, pool empty %lu; "
                    "responder SYN-ACKs %lu, ACKs+RSTs freed %lu, tx refused %lu, unexpected frames %lu\n",
                    (unsigned long)fl.handshakes, fl.elapsed, e2e::fmt_rate(double(fl.handshakes) / fl.elapsed).c_str(),
                    e2e::fmt_rate(fl.median).c_str(), (unsigned long)fcs.syns.load(), (unsigned long)fcs.no_mbuf.load(),
                    (unsigned long)frs.synacks.load(), (unsigned long)frs.freed.load(),
                    (unsigned long)frs.refused.load(), (unsigned long)(fcs.other.load() + frs.other.load()));
    }
    if ((o.only == "" || o.only == "kernel") && !o.http) {
        std::printf("(b) kernel: loopback, client thread on CPU %u (%u in flight, epoll), server thread on CPU %u "
                    "(accept), SO_LINGER 0 on both\n",
                    client_cpu, o.kernel_inflight, server_cpu);
        std::fflush(stdout);
        k = run_kernel(o, client_cpu, server_cpu);
        if (!k.ok) {
            return 1;
        }
        std::printf("    accepted %lu in %.2f s = %s/s (steady median %s/s); client saw connected %lu, reset first "
                    "%lu, failures %lu\n",
                    (unsigned long)k.accepted, k.elapsed, e2e::fmt_rate(double(k.accepted) / k.elapsed).c_str(),
                    e2e::fmt_rate(k.median_acc).c_str(), (unsigned long)k.connected, (unsigned long)k.reset_first,
                    (unsigned long)k.failures);
        std::printf("    CPU: the client and server threads ran %.2f s, ksoftirqd %.2f s, of the %.2f s (%.0f%% of %s): "
                    "%s handshakes per CPU second\n",
                    k.threads_cpu_s, k.ksoftirqd_cpu_s, k.elapsed, 100 * k.cpu_s / k.elapsed / n_lcores,
                    n_lcores == 1 ? "a CPU" : "two CPUs", e2e::fmt_rate(k.per_cpu_s()).c_str());
    }
    const double fg_rate = f.ok ? double(f.established) / f.elapsed : 0;
    const double fq_rate = fq.ok ? double(fq.established) / fq.elapsed : 0;
    const double k_rate = k.ok ? double(k.accepted) / k.elapsed : 0;
    // Steady medians leave the first second out: they need runs of 3 s or more.
    auto medians = [&](const fg_result& r) {
        char b[64] = "no steady medians in runs this short";
        if (r.median_est > 0 && k.median_acc > 0) {
            std::snprintf(b, sizeof(b), "%.1fx (steady medians)", r.median_est / k.median_acc);
        }
        return std::string(b);
    };
    if (f.ok && k.ok && k_rate > 0) {
        std::printf("RATIO Floodgate / kernel: %.1fx (whole runs), %s; load average now %s\n", fg_rate / k_rate,
                    medians(f).c_str(), e2e::load_average().c_str());
    }
    if (fq.ok && k.ok && k_rate > 0) {
        std::printf("RATIO Floodgate with an application thread / kernel: %.1fx (whole runs), %s\n", fq_rate / k_rate,
                    medians(fq).c_str());
    }
    const double fl_rate = fl.ok ? double(fl.handshakes) / fl.elapsed : 0;
    if (f.ok && fl.ok && fl_rate > 0) {
        char b[64] = "no steady medians in runs this short";
        if (f.median_est > 0 && fl.median > 0) {
            std::snprintf(b, sizeof(b), "%.2f (steady medians)", f.median_est / fl.median);
        }
        std::printf("RATIO Floodgate / floor: %.2f (whole runs), %s: the share of the port pair's handshake rate "
                    "left with the TCP work done\n",
                    fg_rate / fl_rate, b);
    }
    if (fl.ok && k.ok && k_rate > 0) {
        std::printf("RATIO floor / kernel: %.1fx (whole runs)\n", fl_rate / k_rate);
    }
    // Per second of CPU time on both sides: on a machine shared with other
    // work the two sides do not get the same CPU share (two polling lcores
    // that hand each handshake back and forth stall whenever either is
    // descheduled; blocking kernel threads lose less). Floodgate's polling
    // counts its idle spins; the kernel's threads sleep when idle.
    const double k_cpu = k.ok ? k.per_cpu_s() : 0;
    if (f.ok && k_cpu > 0 && f.per_cpu_s() > 0) {
        std::printf("RATIO Floodgate / kernel per CPU second: %.1fx (%s / %s handshakes per CPU second: the lcores' "
                    "CPU time vs the kernel threads' and ksoftirqd's)\n",
                    f.per_cpu_s() / k_cpu, e2e::fmt_rate(f.per_cpu_s()).c_str(), e2e::fmt_rate(k_cpu).c_str());
    }
    if (fq.ok && k_cpu > 0 && fq.per_cpu_s() > 0) {
        std::printf("RATIO Floodgate with an application thread / kernel per CPU second: %.1fx (%s / %s; the "
                    "application thread's CPU time counted)\n",
                    fq.per_cpu_s() / k_cpu, e2e::fmt_rate(fq.per_cpu_s()).c_str(), e2e::fmt_rate(k_cpu).c_str());
    }
    // Unexplained differences between the two ends are bugs: exit 3.
    int status = 0;
    for (const fg_result* r : {&f, &fq}) {
        if (r->ok && !r->rec.ok && !r->rec.explained) {
            status = 3;
        }
    }
    if (status != 0) {
        std::printf("bench-e2e-handshake: the two ends do not reconcile (MISMATCH above): exit 3\n");
    }
    if (!o.b.json.empty()) {
        apps::json_object j;
        j.add("bench", std::string("e2e-handshake"));
        j.add("hugepages", uint64_t(eal.hugepages));
        j.add("load_average", e2e::load_average());
        j.add("ports", std::string(apps::pair_kind_name(o.b.ports)));
        j.add("lcores", uint64_t(one_lcore ? 1 : 2));
        if (f.ok) {
            j.add("fg_established_per_s", fg_rate);
            j.add("fg_established_per_s_median", f.median_est);
            j.add("fg_synack_per_s", double(f.synacks) / f.elapsed);
            j.add("fg_timed_out", f.timeouts);
            j.add("fg_client_established", f.rec.client_established);
            j.add("fg_responder_accepted", f.rec.responder_accepted);
            j.add("fg_reconciled", uint64_t(f.rec.ok));
        }
        if (fq.ok) {
            j.add("fg_app_established_per_s", fq_rate);
            j.add("fg_app_established_per_s_median", fq.median_est);
            j.add("fg_app_timed_out", fq.timeouts);
            j.add("fg_app_client_established", fq.rec.client_established);
            j.add("fg_app_responder_accepted", fq.rec.responder_accepted);
            j.add("fg_app_taken", fq.rec.app_taken);
            j.add("fg_app_reconciled", uint64_t(fq.rec.ok));
            j.add("fg_app_accept_overflows", fq.accept_overflows);
        }
        if (fl.ok) {
            j.add("floor_handshakes_per_s", fl_rate);
            j.add("floor_handshakes_per_s_median", fl.median);
            if (f.ok && fl_rate > 0) {
                j.add("ratio_floor", fg_rate / fl_rate);
            }
        }
        if (k.ok) {
            j.add("kernel_accepted_per_s", k_rate);
            j.add("kernel_accepted_per_s_median", k.median_acc);
            j.add("kernel_cpu_s", k.cpu_s);
            j.add("kernel_per_cpu_s", k_cpu);
        }
        if (f.ok) {
            j.add("fg_cpu_s", f.cpu_s());
            j.add("fg_per_cpu_s", f.per_cpu_s());
            if (k_cpu > 0) {
                j.add("ratio_cpu", f.per_cpu_s() / k_cpu);
            }
        }
        if (fq.ok) {
            j.add("fg_app_cpu_s", fq.cpu_s());
            j.add("fg_app_per_cpu_s", fq.per_cpu_s());
            if (k_cpu > 0) {
                j.add("ratio_app_cpu", fq.per_cpu_s() / k_cpu);
            }
        }
        if (f.ok && k.ok && k_rate > 0) {
            j.add("ratio", fg_rate / k_rate);
        }
        if (o.http && f.ok) {
            j.add("fg_http_per_s", double(f.responses_ok) / f.elapsed);
            j.add("fg_http_per_s_median", f.median_est);
            j.add("fg_http_requests", f.requests);
            j.add("fg_http_failed", f.http_failed);
            j.add("fg_response_us_p50", uint64_t(f.response_p50));
            j.add("fg_response_us_p99", uint64_t(f.response_p99));
        }
        if (o.http && kh.ok) {
            j.add("kernel_http_per_s", double(kh.completed) / kh.elapsed);
            j.add("kernel_http_per_s_median", kh.median);
            if (f.ok && kh.completed > 0) {
                j.add("http_ratio", (double(f.responses_ok) / f.elapsed) / (double(kh.completed) / kh.elapsed));
            }
        }
        if (fq.ok && k.ok && k_rate > 0) {
            j.add("ratio_app", fq_rate / k_rate);
        }
        j.add("exit_status", uint64_t(status));
        if (!j.write(o.b.json, err)) {
            std::fprintf(stderr, "bench-e2e-handshake: %s\n", err.c_str());
        }
    }
    return status;
}
