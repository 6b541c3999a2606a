#include "common/runtime.hh"

#include "port.hh"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <thread>

#include <unistd.h>

#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>

namespace fg::apps {

namespace {
std::atomic<bool> g_stop{false};
std::atomic<unsigned> g_signals{0};
std::atomic<bool> g_lcores_running{false};

void on_signal(int sig)
{
    // The first signal stops the run, the second ends draining, a third
    // ends the process the default way (a teardown that hangs can still be
    // interrupted).
    g_stop.store(true);
    if (g_signals.fetch_add(1) + 1 >= 2) {
        std::signal(sig, SIG_DFL);
    }
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
    // A vhost-user peer that went away (or a closed pipe on stdout) is an
    // error to report, not a reason to die: SIGPIPE killed a virtio_user port
    // closed after its net_vhost peer.
    std::signal(SIGPIPE, SIG_IGN);
}

const char* drain_end_name(drain_end e)
{
    switch (e) {
    case drain_end::draining:
        return "draining";
    case drain_end::done:
        return "done";
    case drain_end::timeout:
        return "timeout";
    case drain_end::signal:
        return "signal";
    }
    return "unknown";
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
    double ran = 0; // the run proper, draining excluded
    std::thread ctl([&] {
        glue::unpin_this_thread();
        auto print = [](const std::string& line) {
            if (!line.empty()) {
                std::fprintf(stdout, "%s\n", line.c_str());
                std::fflush(stdout);
            }
        };
        double next = ro.stats_interval_s > 0 ? ro.stats_interval_s : 1e300;
        double next_second = 1;
        while (!g_stop.load()) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
            const double e = elapsed();
            if (e >= next_second && (ro.duration_s <= 0 || next_second < ro.duration_s)) {
                // Late (a loaded machine) is still one sample: its rates are per elapsed second.
                if (ro.every_second) {
                    ro.every_second(e);
                }
                next_second = std::floor(e) + 1;
            }
            if (ro.duration_s > 0 && e >= ro.duration_s) {
                break;
            }
            if (e >= next) {
                if (ro.stats_line) {
                    print(ro.stats_line(e, ro.stats_interval_s));
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
        ran = elapsed();
        if (ro.drain_begin || ro.drained) {
            if (ro.drain_begin) {
                ro.drain_begin();
            }
            const auto d0 = std::chrono::steady_clock::now();
            auto since = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - d0).count(); };
            const double iv = ro.stats_interval_s > 0 ? ro.stats_interval_s : 1;
            double next_line = 0; // a line at once, then every interval
            drain_end end = drain_end::draining;
            while (end == drain_end::draining) {
                if (ro.drained && ro.drained()) {
                    end = drain_end::done;
                } else if (g_signals.load() >= 2) {
                    end = drain_end::signal;
                } else if (since() >= ro.drain_s) {
                    end = drain_end::timeout;
                } else {
                    if (since() >= next_line) {
                        if (ro.drain_line) {
                            print(ro.drain_line(since(), end));
                        }
                        next_line += iv;
                    }
                    std::this_thread::sleep_for(std::chrono::milliseconds(10));
                }
            }
            if (ro.drain_line) {
                print(ro.drain_line(since(), end));
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
    return ran;
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

std::unique_ptr<runtime> runtime::start(int argc, char** argv, unsigned mem_mb, std::string& error, pair_kind pairs)
{
    // Before EAL: a signal during start-up is a stop request like any other
    // (start-up finishes, the run ends at once, teardown runs in order).
    install_signal_handlers();
    std::unique_ptr<runtime> rt(new runtime());
    rt->_eal = glue::eal_start(argc, argv, mem_mb, pairs == pair_kind::vhost);
    if (!rt->_eal.ok) {
        error = rt->_eal.error;
        return nullptr;
    }
    rt->_owns_eal = true;
    rt->_undo.push_back([] { glue::eal_stop(); });
    std::setvbuf(stdout, nullptr, _IOLBF, 0); // stats lines reach a pipe as they are printed
    return rt;
}

std::unique_ptr<runtime> runtime::adopt_eal()
{
    std::unique_ptr<runtime> rt(new runtime());
    rt->_eal.ok = true;
    return rt;
}

struct runtime::launch_state {
    std::vector<lcore_job> jobs;
    std::vector<unsigned> lcores; // launched
    std::vector<core::stack*> stacks;
};

bool runtime::launch(std::string& error, std::vector<core::stack*> stacks)
{
    if (_launch) {
        error = "launch: already running";
        return false;
    }
    if (stacks.empty()) {
        stacks = _stacks;
    }
    auto ls = std::make_unique<launch_state>();
    ls->stacks = stacks;
    for (core::stack* st : stacks) {
        for (uint16_t i = 0; i < st->n_lcores(); i++) {
            const unsigned id = st->lc(i).lcore_id;
            if (id == rte_get_main_lcore()) {
                error = "launch: stack " + st->config().name + " uses the main lcore, which drives the caller";
                return false;
            }
            auto it = std::find_if(ls->jobs.begin(), ls->jobs.end(),
                                   [id](const lcore_job& j) { return j.lcore_id == id; });
            if (it == ls->jobs.end()) {
                ls->jobs.push_back(lcore_job{id, {}});
                it = ls->jobs.end() - 1;
            }
            it->stacks.push_back(st);
        }
    }
    _launch = std::move(ls);
    for (lcore_job& j : _launch->jobs) {
        if (rte_eal_remote_launch(lcore_main, &j, j.lcore_id) != 0) {
            error = "launch: lcore " + std::to_string(j.lcore_id) + " is busy";
            halt();
            return false;
        }
        _launch->lcores.push_back(j.lcore_id);
    }
    return true;
}

void runtime::halt()
{
    if (!_launch) {
        return;
    }
    for (core::stack* st : _launch->stacks) {
        st->stop();
    }
    for (unsigned id : _launch->lcores) {
        // Sleep, not spin: the caller shares the CPUs with the lcores.
        while (rte_eal_get_lcore_state(id) == RUNNING) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        rte_eal_wait_lcore(id);
    }
    _launch.reset();
}

runtime::~runtime()
{
    halt();
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

bool runtime::port_pair(pair_kind kind, const std::string& name, uint16_t n_queues, uint16_t& port_a,
                        uint16_t& port_b, const std::function<bool(uint16_t, std::string&)>& start_b,
                        std::string& error)
{
    if (kind == pair_kind::ring) {
        return ring_pair(name, n_queues, port_a, port_b, error) && start_b(port_b, error);
    }
    if (_eal.hugepages) {
        // DPDK 22.11, virtio_user and net_vhost in one process on hugepages:
        // vhost-user maps the memory as at most 8 regions, one per 2 MB page
        // is refused ("Too many memory regions") and the pair passes nothing;
        // with --single-file-segments the two deadlock at start (the
        // virtio_user side waits on the socket for the vhost thread, which
        // spins on EAL's memory lock). start() with pair_kind::vhost avoids
        // hugepages; here they were asked for explicitly.
        error = "a virtio_user <-> net_vhost pair in one process needs ordinary pages: drop --in-memory / "
                "--huge-dir (or add --no-huge)";
        return false;
    }
    const std::string sock = "/tmp/fg-" + std::to_string(getpid()) + "-" + name + ".sock";
    _undo.push_back([name, sock] { glue::destroy_vhost_pair(name, sock); });
    return glue::make_vhost_server(name, sock, n_queues, port_b, error) && start_b(port_b, error) &&
           glue::make_virtio_client(name, sock, n_queues, port_a, error);
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

core::stack* runtime::add_port_stack(const common_options& co, core::stack_config& sc, std::string& error)
{
    if (!resolve_port(co.port, sc.port_id, error)) {
        return nullptr;
    }
    apply_common(sc, co);
    return add_stack(sc, error);
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
    auto start_server = [&](uint16_t port, std::string& e) {
        pc.server.port_id = port;
        out.server = add_stack(pc.server, e);
        if (out.server == nullptr) {
            e = pc.server.name + ": " + e;
        }
        return out.server != nullptr;
    };
    if (!port_pair(pc.kind, pc.name, uint16_t(pc.client.lcores.size()), a, b, start_server, error)) {
        return false;
    }
    pc.client.port_id = a;
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
    _listening.emplace_back(s, p);
    _undo.push_back([this, s, p] {
        auto it = std::find(_listening.begin(), _listening.end(), std::make_pair(s, p));
        if (it != _listening.end()) {
            s->unlisten(*p);
            _listening.erase(it);
        }
        delete p;
    });
    return p;
}

void runtime::stop_listening()
{
    for (auto& [s, p] : _listening) {
        s->unlisten(*p);
    }
    _listening.clear();
}

void runtime::publish(core::stack& st, core::counter_source extra)
{
    core::telemetry_register(&st, std::move(extra));
    core::stack* s = &st;
    _undo.push_back([s] { core::telemetry_unregister(s); });
}

core::capture* runtime::capture(core::capture_config cfg, const std::vector<unsigned>& lcores, std::string& error)
{
    std::vector<core::capture::queue_id> queues;
    uint16_t mtu = 0;
    for (core::stack* st : _stacks) {
        mtu = std::max(mtu, st->config().mtu);
        for (uint16_t i = 0; i < st->n_lcores(); i++) {
            const unsigned id = st->lc(i).lcore_id;
            if (lcores.empty() || std::find(lcores.begin(), lcores.end(), id) != lcores.end()) {
                queues.push_back({st->config().port_id, i});
            }
        }
    }
    if (queues.empty()) {
        error = "--pcap-lcores: none of these lcores polls a port";
        return nullptr;
    }
    cfg.max_frame = uint16_t(std::max<uint32_t>(cfg.max_frame, mtu + RTE_ETHER_HDR_LEN + 4u));
    std::unique_ptr<core::capture> c = core::capture::open(cfg, queues, error);
    if (!c) {
        return nullptr;
    }
    core::capture* p = c.release();
    _capture = p;
    _undo.push_back([this, p] {
        p->close();
        _capture = nullptr;
        delete p;
    });
    return p;
}

bool runtime::capture(const common_options& co, std::string& error)
{
    if (co.pcap_path.empty()) {
        return true;
    }
    core::capture_config cc;
    cc.path = co.pcap_path;
    cc.snaplen = co.pcap_snaplen;
    cc.max_bytes = uint64_t(co.pcap_max_mb * 1024 * 1024);
    return capture(cc, co.pcap_lcores, error) != nullptr;
}

std::string runtime::capture_summary() const
{
    if (_capture == nullptr) {
        return "";
    }
    const core::capture_stats s = _capture->stats();
    char b[512];
    std::snprintf(b, sizeof(b),
                  "pcap: %lu frames written to %s (%.1f MB), %lu not written (%lu: capture busy, %lu: over "
                  "--pcap-max-mb, %lu: write errors)",
                  (unsigned long)s.written, _capture->config().path.c_str(), double(s.bytes) / (1024.0 * 1024.0),
                  (unsigned long)(s.lost_busy + s.lost_size + s.write_errors), (unsigned long)s.lost_busy,
                  (unsigned long)s.lost_size, (unsigned long)s.write_errors);
    return b;
}

void runtime::add_capture(json_object& j) const
{
    if (_capture == nullptr) {
        return;
    }
    const core::capture_stats s = _capture->stats();
    json_object o;
    o.add("file", _capture->config().path);
    o.add("snaplen", uint64_t(_capture->config().snaplen));
    o.add("max_bytes", _capture->config().max_bytes);
    o.add("captured", s.captured);
    o.add("written", s.written);
    o.add("bytes", s.bytes);
    o.add("not_written_busy", s.lost_busy);
    o.add("not_written_size", s.lost_size);
    o.add("write_errors", s.write_errors);
    j.add_raw("pcap", o.str());
}

double runtime::run(const run_options& ro)
{
    const double t = apps::run(_stacks, ro);
    if (_capture != nullptr) {
        _capture->close(); // the lcores stopped: the file is complete, its counts final
    }
    return t;
}

void apply_common(core::stack_config& sc, const common_options& co)
{
    sc.addrs = co.ips;
    sc.gateway = co.gateway;
    sc.static_arp = co.static_arp;
    sc.mtu = co.mtu;
    sc.resolve = co.resolve;
    if (co.time_wait_ms != 0) {
        sc.active.time_wait_ms = co.time_wait_ms;
    }
}

} // namespace fg::apps
