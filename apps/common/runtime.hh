// The runtime every app and end-to-end benchmark stands on, and running
// stacks until told to stop.
//
// apps::runtime owns what a Floodgate process brings up, in the order it
// must come up -- EAL, ports (ring pairs, virtio_user <-> net_vhost pairs,
// or the ethdevs EAL probed), stacks (each starts its port), listeners,
// telemetry, the pcapng capture -- and tears it down in exactly the reverse
// order when it goes out of scope: after a normal end, after SIGINT/SIGTERM
// (handlers are in before EAL starts), and on an early return from a
// start-up error. Nothing that needs EAL outlives it (DPDK rings, ports,
// mempool users), so rte_eal_cleanup() is always the last call. The "undo"
// list is the whole mechanism: each thing created pushes how to take it
// down. add_pair() is the stack-pair builder of fg-loadgen --responder, the
// e2e benches and the EAL tests (adopt_eal(): EAL owned by the test main).
//
// run() launches every stack's polling loop on its lcores -- several stacks
// on one lcore interleave (stack::run_shared_lcore), so a load generator and
// its responder fit on one core -- prints a stats line every interval and
// takes a series sample every second from a plain (unpinned) thread, stops
// on a signal, after the duration or when `finished`/`done` says so, drains
// (the apps' draining line: common/drain.hh), and waits for every lcore. launch()/halt() do the same without blocking,
// for tests.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/options.hh"
#include "common/report.hh"
#include "core/capture.hh"
#include "core/stack.hh"
#include "core/telemetry.hh"
#include "eal.hh"

namespace fg::apps {

// Installs SIGINT/SIGTERM handlers that request a stop.
void install_signal_handlers();
bool stop_requested();
void request_stop();

// Where draining is: going on, or how it ended -- nothing left (done),
// run_options::drain_s passed (timeout), or a second signal (signal).
enum class drain_end { draining, done, timeout, signal };
const char* drain_end_name(drain_end e); // "draining", "done", "timeout", "signal"

struct run_options {
    double duration_s = 0;       // 0: until a signal
    double stats_interval_s = 1; // 0: no stats line
    // Called every interval with the seconds since start; returns the line to print (empty: none).
    std::function<std::string(double elapsed_s, double interval_s)> stats_line;
    // Called once per interval tick on the stats thread (e.g. to stop early when done); true = stop.
    std::function<bool(double elapsed_s)> done;
    // Polled every 10 ms on the stats thread: true = stop now (e.g. a bounded run is complete).
    std::function<bool()> finished;
    // Called every second (of the run proper) on the stats thread: a sample of the report's series.
    std::function<void(double elapsed_s)> every_second;
    // Draining, once the run is over (duration, signal, finished) and before
    // the lcores stop: drain_begin() once (e.g. stop generating, close held
    // connections), then every 10 ms drained() until it says true or
    // drain_s passes (a second signal ends it too); drain_line() is printed
    // every stats interval meanwhile (drain_end::draining) and once at the
    // end, saying how it ended.
    double drain_s = 0;
    std::function<void()> drain_begin;
    std::function<bool()> drained;
    std::function<std::string(double drain_elapsed_s, drain_end e)> drain_line;
};

// Runs every stack on its lcores until stop and drains; returns the seconds
// of the run proper (draining excluded).
double run(const std::vector<core::stack*>& stacks, const run_options& ro);

// A client stack and a server stack on the two ends of one port pair.
struct pair_config {
    pair_kind kind = pair_kind::ring;
    std::string name = "pair";  // the pair's name (ring ports <name>_a, <name>_b; vhost: see glue)
    core::stack_config client;  // port_id is filled in; lcores: see add_pair()
    core::stack_config server;
};
struct stack_pair {
    core::stack* client = nullptr;
    core::stack* server = nullptr;
};

// Splits lcores between two stacks: the first half and the second half
// (equal counts, a ring pair has as many queues on both ends; an odd one out
// is left idle), or both on the same lcore when there is only one.
std::pair<std::vector<unsigned>, std::vector<unsigned>> split_lcores(const std::vector<unsigned>& lcores);

class runtime {
public:
    // Starts EAL with argv up to "--" (glue::eal_start: hugepages when
    // enough are free, else --no-huge --no-shconf -m mem_mb) and installs
    // SIGINT/SIGTERM handlers that request a stop. nullptr with `error`.
    // `pairs`: the kind of port pair the program will make; a vhost pair
    // runs on ordinary pages (see port_pair).
    static std::unique_ptr<runtime> start(int argc, char** argv, unsigned mem_mb, std::string& error,
                                          pair_kind pairs = pair_kind::ring);
    // For a process whose EAL is started and stopped elsewhere (the EAL test
    // suite): the runtime owns everything else, and leaves EAL and signals alone.
    static std::unique_ptr<runtime> adopt_eal();
    // Stops any lcore still running, then undoes everything in reverse order
    // of creation, EAL last.
    ~runtime();
    runtime(const runtime&) = delete;
    runtime& operator=(const runtime&) = delete;

    const glue::eal_result& eal() const { return _eal; }
    // Every EAL lcore id (main first, as RTE_LCORE_FOREACH gives them).
    std::vector<unsigned> lcores() const;

    // The stack of a one-port app: the port named by --port, the common
    // options applied to `sc`, then add_stack(). nullptr with `error`.
    core::stack* add_port_stack(const common_options& co, core::stack_config& sc, std::string& error);

    // A back-to-back ring pair (glue::make_ring_pair); closed and its rings
    // freed at teardown.
    bool ring_pair(const std::string& name, uint16_t n_queues, uint16_t& port_a, uint16_t& port_b,
                   std::string& error);
    // A port pair of either kind; both closed and their devices removed at
    // teardown. port_b is made first and handed to `start_b` (which starts it:
    // a stack, or a raw port), then port_a is made (a virtio_user port can
    // only connect to a configured net_vhost one); port_a is not started.
    bool port_pair(pair_kind kind, const std::string& name, uint16_t n_queues, uint16_t& port_a, uint16_t& port_b,
                   const std::function<bool(uint16_t port_b, std::string& error)>& start_b, std::string& error);
    // A stack (core::stack::create, which starts cfg.port_id); at teardown
    // the stack is destroyed, then its port stopped and closed.
    core::stack* add_stack(const core::stack_config& cfg, std::string& error);
    // Client and server stacks on a new port pair (port_pair(): the server's
    // first). Lcores: as given in the configs (equal counts), or
    // split_lcores() of every EAL lcore when both are empty.
    bool add_pair(pair_config pc, stack_pair& out, std::string& error);
    // listen() on a stack of this runtime; unlisten and freed at teardown.
    tcp::listener* listen(core::stack& st, uint32_t addr, uint16_t port, const tcp::listen_options& o,
                          std::string& error);
    // Unlistens every listener now (a server's draining: new SYNs meet a
    // closed port); they are freed at teardown. Idempotent; from run()'s
    // stats thread (run_options::drain_begin) or the caller, not both at once.
    void stop_listening();
    // Publishes a stack's counters to rte_telemetry (core::telemetry_register);
    // withdrawn at teardown, before the stack goes.
    void publish(core::stack& st, core::counter_source extra);
    // pcapng capture (--pcap) of every queue of this runtime's stacks polled
    // by one of `lcores` (empty: all), after the stacks exist; closed at
    // teardown (before the stacks go). nullptr with `error`.
    core::capture* capture(core::capture_config cfg, const std::vector<unsigned>& lcores, std::string& error);
    // Capture from the common options (--pcap ...): nothing if no --pcap; false with `error`.
    bool capture(const common_options& co, std::string& error);
    core::capture* capturing() const { return _capture; }
    // The capture's summary line ("" without --pcap) and report member.
    std::string capture_summary() const;
    void add_capture(json_object& j) const;

    // Anything else to undo at teardown, after what is created later.
    void on_teardown(std::function<void()> undo) { _undo.push_back(std::move(undo)); }

    const std::vector<core::stack*>& stacks() const { return _stacks; }
    // Runs every stack of this runtime until stop (apps::run).
    double run(const run_options& ro);
    // Starts the loops of `stacks` (all of this runtime's when empty) on their
    // lcores and returns at once (tests drive them meanwhile). They must not
    // use the main lcore (the caller's). False with `error`.
    bool launch(std::string& error, std::vector<core::stack*> stacks = {});
    // Stops what launch() started and waits for the lcores; the stacks stay
    // for inspection. Idempotent; the destructor does it too.
    void halt();

private:
    runtime() = default;

    glue::eal_result _eal;
    std::vector<core::stack*> _stacks;
    std::vector<std::pair<core::stack*, tcp::listener*>> _listening; // listen() minus stop_listening()
    core::capture* _capture = nullptr;
    bool _owns_eal = false;
    struct launch_state; // what launch() started: jobs the lcores read until halt()
    std::unique_ptr<launch_state> _launch;
    std::vector<std::function<void()>> _undo;
};

// Applies the common options to a stack config.
void apply_common(core::stack_config& sc, const struct common_options& co);

} // namespace fg::apps
