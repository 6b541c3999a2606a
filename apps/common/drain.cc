#include "common/drain.hh"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>

namespace fg::apps {

namespace {

// What a census of the stack's pools says, split as the draining line shows it.
struct census {
    uint64_t closing = 0;
    uint64_t time_wait = 0;
    uint64_t open = 0;
    std::string closing_states; // " (fin_wait_1 2, last_ack 10)"
    std::string open_states;
};

// Connections nobody closes at a server's stop (drain_config::wait_open false).
bool is_open(tcp::state s)
{
    return s == tcp::state::syn_received || s == tcp::state::established || s == tcp::state::close_wait;
}

void append(std::string& list, tcp::state s, uint64_t n)
{
    list += (list.empty() ? " (" : ", ") + std::string(tcp::state_name(s)) + " " + std::to_string(n);
}

census take(const core::stack& st, bool wait_open)
{
    const std::array<uint64_t, tcp::n_states> n = st.state_counts();
    census c;
    for (unsigned i = 0; i < tcp::n_states; i++) {
        const tcp::state s = tcp::state(i);
        if (n[i] == 0) {
            continue;
        }
        if (s == tcp::state::time_wait) {
            c.time_wait += n[i];
        } else if (!wait_open && is_open(s)) {
            c.open += n[i];
            append(c.open_states, s, n[i]);
        } else {
            c.closing += n[i];
            append(c.closing_states, s, n[i]);
        }
    }
    if (!c.closing_states.empty()) {
        c.closing_states += ")";
    }
    if (!c.open_states.empty()) {
        c.open_states += ")";
    }
    return c;
}

} // namespace

void set_drain(run_options& ro, core::stack& st, drain_config cfg, drain_result& out)
{
    ro.drain_s = cfg.drain_s;
    ro.drain_begin = cfg.begin ? cfg.begin : [] {};
    const bool wait_open = cfg.wait_open;
    core::stack* s = &st;
    // Polled every 10 ms: nothing in use is the cheap answer; otherwise (a
    // server may hold millions of open connections) a census, which walks
    // the pools, at most every 100 ms or five times its own duration.
    using clock = std::chrono::steady_clock;
    ro.drained = [s, wait_open, next = clock::time_point{}, gap = std::chrono::milliseconds(100)]() mutable {
        if (s->conns_in_use() == 0) {
            return true;
        }
        if (wait_open || clock::now() < next) {
            return false;
        }
        const auto t0 = clock::now();
        const census c = take(*s, false);
        const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - t0);
        next = clock::now() + std::max(gap, 5 * took);
        return c.closing + c.time_wait == 0;
    };
    ro.drain_line = [s, cfg, &out](double t, drain_end e) {
        const census c = take(*s, cfg.wait_open);
        char b[256];
        std::snprintf(b, sizeof(b), "[%s draining %5.1fs] %lu connection(s) still closing%s, %lu in TIME-WAIT",
                      cfg.app.c_str(), t, (unsigned long)c.closing, c.closing_states.c_str(),
                      (unsigned long)c.time_wait);
        std::string line = b;
        if (c.open != 0) {
            line += ", " + std::to_string(c.open) + " open" + c.open_states + " not waited for";
        }
        if (cfg.extra) {
            line += cfg.extra();
        }
        if (e == drain_end::draining) {
            return line;
        }
        out.end = e;
        out.s = t;
        out.closing = c.closing;
        out.time_wait = c.time_wait;
        out.open = c.open;
        const uint64_t left = c.closing + c.time_wait + c.open;
        const std::string dropped = std::to_string(left) + " connection(s) dropped at exit";
        switch (e) {
        case drain_end::draining:
            break;
        case drain_end::done:
            line += ": drained";
            if (left != 0) {
                line += ", " + dropped;
            }
            break;
        case drain_end::timeout:
            std::snprintf(b, sizeof(b), ": --drain %g s passed, ", cfg.drain_s);
            line += b + dropped;
            break;
        case drain_end::signal:
            line += ": ended by a second signal, " + dropped;
            break;
        }
        return line;
    };
}

void add_drain(json_object& j, const drain_result& r)
{
    json_object d;
    d.add("s", r.s);
    d.add("end", std::string(drain_end_name(r.end)));
    d.add("closing_left", r.closing);
    d.add("time_wait_left", r.time_wait);
    d.add("open_left", r.open);
    j.add_raw("drain", d.str());
}

} // namespace fg::apps
