// Draining at stop, the same in every app: when the run is over (--duration,
// a first SIGINT/SIGTERM, a bounded run complete) the lcores keep running
// while the connections finish closing and TIME-WAIT expires -- a Floodgate
// stack's TIME-WAIT exists only while its process runs, so exiting earlier
// ends the quarantine of those 4-tuples -- and a line at the stats interval
// says what is left:
//
//   [fg-server draining   1.0s] 12 connection(s) still closing (fin_wait_1 2,
//       last_ack 10), 340 in TIME-WAIT, 5 open (established 5) not waited for
//
// It ends when nothing it waits for is left, after --drain seconds, or at a
// second signal; the last line says which, and how many connections are
// dropped at exit. The report gets a `drain` object with the same facts.
//
// What is waited for: a load generator closes every connection it opened
// (gen stop: FIN to the held ones), so all of its connections count as
// closing. A server closes nothing by itself at stop: it stops listening
// (new SYNs meet a closed port, as after close() of a listening socket),
// and its ESTABLISHED, CLOSE-WAIT and half-open connections -- held by an
// application, or by the lcore -- are "open": shown, not waited for, and
// dropped at exit (a known limit: no stack-wide close of held connections yet).
#pragma once

#include <functional>
#include <string>

#include "common/report.hh"
#include "common/runtime.hh"

namespace fg::apps {

struct drain_config {
    std::string app;              // the line's prefix, e.g. "fg-loadgen"
    double drain_s = 3;           // --drain
    bool wait_open = true;        // false: ESTABLISHED / CLOSE-WAIT / SYN-RECEIVED are open, not closing
    std::function<void()> begin;  // once, when draining starts (stop the generator, stop listening)
    std::function<std::string()> extra; // appended to every line (e.g. " | responder 5 open"); may be empty
};

// How draining went: filled in by the last line.
struct drain_result {
    drain_end end = drain_end::done;
    double s = 0;           // seconds it lasted
    uint64_t closing = 0;   // left then (dropped at exit)
    uint64_t time_wait = 0; // left then (dropped at exit)
    uint64_t open = 0;      // left then, not waited for (wait_open false; dropped at exit)
};

// Sets ro's drain_* members to drain stack `st` as `cfg` says; `out` must
// outlive the run.
void set_drain(run_options& ro, core::stack& st, drain_config cfg, drain_result& out);

// The report's `drain` object.
void add_drain(json_object& j, const drain_result& r);

} // namespace fg::apps
