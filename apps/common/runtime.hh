// Running stacks until told to stop: launches every stack's polling loop on
// its lcores (the main lcore too, if a stack owns it), prints a stats line
// every interval from a plain thread, stops on SIGINT/SIGTERM or after the
// duration, and waits for every lcore to finish.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/options.hh"
#include "core/stack.hh"
#include "core/telemetry.hh"
#include "eal.hh"

namespace fg::apps {

// Installs SIGINT/SIGTERM handlers that request a stop.
void install_signal_handlers();
bool stop_requested();
void request_stop();

struct run_options {
    double duration_s = 0;       // 0: until a signal
    double stats_interval_s = 1; // 0: no stats line
    // Called every interval with the seconds since start; returns the line to print (empty: none).
    std::function<std::string(double elapsed_s, double interval_s)> stats_line;
    // Called once per interval tick on the stats thread (e.g. to stop early when done); true = stop.
    std::function<bool(double elapsed_s)> done;
};

// Runs every stack on its lcores until stop; returns the elapsed seconds.
double run(const std::vector<core::stack*>& stacks, const run_options& ro);

// Minimal JSON object writer for the --json counters file.
class json_object {
public:
    void add(const std::string& key, uint64_t v);
    void add(const std::string& key, double v);
    void add(const std::string& key, const std::string& v);
    void add_raw(const std::string& key, const std::string& json);
    std::string str() const { return "{" + _body + "}"; }
    bool write(const std::string& path, std::string& error) const;

private:
    void key(const std::string& k);
    std::string _body;
};

// The stack's loop counters, classifier drops and neighbour counters as JSON members.
void add_stack_counters(json_object& j, const core::stack& st);

// Every TCP counter of the stack (summed over lcores) as JSON members;
// `extra` (if given) adds to some of them (e.g. the load generator's own
// no_port and unreachable outcomes, which never reach the engine).
void add_tcp_counters(json_object& j, const core::stack& st,
                      const std::function<uint64_t(tcp::ctr)>& extra = nullptr);

// The TCP counters as extra telemetry keys of the stack (core::telemetry_register).
core::counter_source tcp_telemetry(const core::stack& st);

// "resolved": {"ADDR": "MAC" or ""} for each address, as lcore 0 knows it.
void add_resolved(json_object& j, const core::stack& st, const std::vector<uint32_t>& addrs);

// The start of a one-port app: EAL (argv up to "--"), signal handlers, the
// port named by --port, the common options, the stack. `sc` comes in with
// the app's own settings (name, TCP capacity). nullptr with `error` set on
// any failure; `eal` says whether hugepages are in use.
std::unique_ptr<core::stack> bring_up(int argc, char** argv, const common_options& co, core::stack_config& sc,
                                      glue::eal_result& eal, std::string& error);

// Applies the common options to a stack config.
void apply_common(core::stack_config& sc, const struct common_options& co);

} // namespace fg::apps
