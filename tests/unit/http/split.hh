// Feeding a message to an incremental parser in pieces: whole, split once at
// every byte boundary, split twice at every pair of boundaries, and one byte
// at a time. Each way must give the same outcome (status, bytes consumed,
// what the parser decided) -- a parser that kept state in the wrong place, or
// read a byte twice, shows up as a difference at some cut.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "http/parse.hh"

namespace fg::http::test {

// What one run of a parser over a message ended with.
struct outcome {
    parse_status st = parse_status::more;
    uint32_t consumed = 0;  // bytes the parser took before stopping (done / error) or all of them
    std::string facts;      // what the parser decided, as text (status, close, ...), for comparison

    bool operator==(const outcome& o) const { return st == o.st && consumed == o.consumed && facts == o.facts; }
};

inline const char* status_name(parse_status s)
{
    switch (s) {
    case parse_status::more: return "more";
    case parse_status::done: return "done";
    case parse_status::bad: return "bad";
    case parse_status::unsupported: return "unsupported";
    }
    return "?";
}

inline std::ostream& operator<<(std::ostream& os, const outcome& o)
{
    return os << status_name(o.st) << " consumed=" << o.consumed << " [" << o.facts << "]";
}

// Runs `P` (fresh) over msg cut at `cuts` (ascending, inside the message).
// feed(P&, p, n, st) returns consumed; facts(P&) describes the result.
template <class P, class Feed, class Facts>
outcome run_pieces(const std::string& msg, const std::vector<size_t>& cuts, Feed feed, Facts facts)
{
    P parser;
    outcome o;
    size_t from = 0;
    std::vector<size_t> ends = cuts;
    ends.push_back(msg.size());
    for (size_t to : ends) {
        if (to < from) {
            continue;
        }
        const auto* p = reinterpret_cast<const uint8_t*>(msg.data()) + from;
        const uint32_t n = uint32_t(to - from);
        parse_status st = parse_status::more;
        const uint32_t used = feed(parser, p, n, st);
        EXPECT_LE(used, n);
        o.consumed += used;
        o.st = st;
        if (st != parse_status::more) {
            EXPECT_TRUE(st != parse_status::done || used <= n);
            break;
        }
        EXPECT_EQ(used, n) << "`more` must consume everything";
        from = to;
    }
    o.facts = facts(parser);
    return o;
}

// Every way of cutting msg must give `whole`'s outcome; returns it.
template <class P, class Feed, class Facts>
outcome every_split(const std::string& msg, Feed feed, Facts facts)
{
    const outcome whole = run_pieces<P>(msg, {}, feed, facts);
    for (size_t a = 1; a < msg.size(); a++) {
        const outcome o = run_pieces<P>(msg, {a}, feed, facts);
        EXPECT_EQ(o, whole) << "cut at " << a << " of " << msg.size();
        if (!(o == whole)) {
            return whole;
        }
    }
    if (msg.size() <= 400) {
        for (size_t a = 1; a < msg.size(); a++) {
            for (size_t b = a + 1; b < msg.size(); b++) {
                const outcome o = run_pieces<P>(msg, {a, b}, feed, facts);
                EXPECT_EQ(o, whole) << "cuts at " << a << ", " << b << " of " << msg.size();
                if (!(o == whole)) {
                    return whole;
                }
            }
        }
    }
    std::vector<size_t> bytes;
    for (size_t a = 1; a < msg.size(); a++) {
        bytes.push_back(a);
    }
    const outcome o = run_pieces<P>(msg, bytes, feed, facts);
    EXPECT_EQ(o, whole) << "one byte at a time";
    return whole;
}

} // namespace fg::http::test
