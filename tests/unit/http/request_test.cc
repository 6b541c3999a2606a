// http::request_parser: every request fed whole and split at every byte
// boundary (split.hh) must end the same way.
#include <string>

#include <gtest/gtest.h>

#include "http/request.hh"
#include "split.hh"

namespace fg::http::test {
namespace {

uint32_t g_max_head = request_parser::default_max_head;

uint32_t feed(request_parser& p, const uint8_t* b, uint32_t n, parse_status& st)
{
    return p.feed(b, n, g_max_head, st);
}

std::string facts(const request_parser& p)
{
    return "head=" + std::to_string(p.head_method()) + " http10=" + std::to_string(p.http10()) +
           " keep=" + std::to_string(p.keep_alive()) + " err=" + parse_error_name(p.error());
}

outcome check(const std::string& msg) { return every_split<request_parser>(msg, feed, facts); }

// What wrk, ab and curl send.
const std::string wrk_get = "GET / HTTP/1.1\r\nHost: 198.18.0.2:8080\r\n\r\n";
const std::string ab_get = "GET /index.html HTTP/1.0\r\nHost: 198.18.0.2:8080\r\nUser-Agent: ApacheBench/2.3\r\n"
                           "Accept: */*\r\n\r\n";
const std::string curl_get = "GET /file HTTP/1.1\r\nHost: 198.18.0.2:8080\r\nUser-Agent: curl/7.88.1\r\n"
                             "Accept: */*\r\n\r\n";

TEST(Request, WrkGet)
{
    const outcome o = check(wrk_get);
    EXPECT_EQ(o.st, parse_status::done);
    EXPECT_EQ(o.consumed, wrk_get.size());
    EXPECT_EQ(o.facts, "head=0 http10=0 keep=1 err=none");
}

TEST(Request, AbGetIsHttp10WithoutKeepAlive)
{
    EXPECT_EQ(check(ab_get).facts, "head=0 http10=1 keep=0 err=none");
    // ab -k
    EXPECT_EQ(check("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\nHost: a\r\n\r\n").facts,
              "head=0 http10=1 keep=1 err=none");
    // HTTP/1.0 needs no Host.
    EXPECT_EQ(check("GET / HTTP/1.0\r\n\r\n").st, parse_status::done);
}

TEST(Request, CurlGetAndHead)
{
    EXPECT_EQ(check(curl_get).facts, "head=0 http10=0 keep=1 err=none");
    EXPECT_EQ(check("HEAD /file HTTP/1.1\r\nHost: x\r\n\r\n").facts, "head=1 http10=0 keep=1 err=none");
    // Methods are case-sensitive tokens: "head" and "HEADER" are not HEAD.
    EXPECT_EQ(check("head / HTTP/1.1\r\nHost: x\r\n\r\n").facts, "head=0 http10=0 keep=1 err=none");
    EXPECT_EQ(check("HEADER / HTTP/1.1\r\nHost: x\r\n\r\n").facts, "head=0 http10=0 keep=1 err=none");
}

TEST(Request, ConnectionClose)
{
    EXPECT_EQ(check("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").facts,
              "head=0 http10=0 keep=0 err=none");
    EXPECT_EQ(check("GET / HTTP/1.1\r\nHost: x\r\nConnection: TE, Close\r\n\r\n").facts,
              "head=0 http10=0 keep=0 err=none");
}

TEST(Request, PipelinedRequestsStopAtEachEnd)
{
    const std::string two = wrk_get + curl_get;
    const outcome o = check(two);
    EXPECT_EQ(o.st, parse_status::done);
    EXPECT_EQ(o.consumed, wrk_get.size());
    request_parser p;
    parse_status st;
    const auto* b = reinterpret_cast<const uint8_t*>(two.data());
    const uint32_t a = p.feed(b, uint32_t(two.size()), g_max_head, st);
    ASSERT_EQ(st, parse_status::done);
    p.reset();
    EXPECT_EQ(p.feed(b + a, uint32_t(two.size() - a), g_max_head, st), curl_get.size());
    EXPECT_EQ(st, parse_status::done);
}

TEST(Request, BodyIsSkipped)
{
    const std::string post = "POST /form HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello=world";
    const outcome o = check(post + "GET");
    EXPECT_EQ(o.st, parse_status::done);
    EXPECT_EQ(o.consumed, post.size());
}

TEST(Request, EmptyLinesBeforeTheRequestLine)
{
    const std::string r = "\r\n\r\n" + wrk_get;
    const outcome o = check(r);
    EXPECT_EQ(o.st, parse_status::done);
    EXPECT_EQ(o.consumed, r.size());
}

TEST(Request, ChunkedIsUnsupported)
{
    const outcome o = check("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
    EXPECT_EQ(o.st, parse_status::unsupported);
    EXPECT_EQ(o.facts, "head=0 http10=0 keep=1 err=transfer_encoding");
}

TEST(Request, HeadLimit)
{
    std::string r = "GET / HTTP/1.1\r\nHost: x\r\nX-Pad: " + std::string(200, 'p') + "\r\n\r\n";
    g_max_head = uint32_t(r.size());
    EXPECT_EQ(check(r).st, parse_status::done);
    g_max_head = uint32_t(r.size() - 1);
    const outcome o = check(r);
    EXPECT_EQ(o.st, parse_status::bad);
    EXPECT_EQ(o.consumed, r.size());
    EXPECT_EQ(o.facts, "head=0 http10=0 keep=1 err=head_too_large");
    g_max_head = request_parser::default_max_head;
}

struct bad_case {
    std::string msg;
    parse_error err;
};

TEST(Request, Malformed)
{
    const bad_case cases[] = {
        {"GET / HTTP/1.1\r\n\r\n", parse_error::missing_host},
        {"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", parse_error::dup_host},
        {"GET / HTTP/2.0\r\nHost: a\r\n\r\n", parse_error::bad_version},
        {"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", parse_error::bad_version},
        {"GET / HTTP/1.1 extra\r\nHost: a\r\n\r\n", parse_error::bad_version},
        {"GET /\r\n\r\n", parse_error::bad_target},
        {"GET  / HTTP/1.1\r\n", parse_error::bad_target},
        {"GET /a\x01 HTTP/1.1\r\n", parse_error::bad_target},
        {"G(T / HTTP/1.1\r\n", parse_error::bad_method},
        {" GET / HTTP/1.1\r\n", parse_error::bad_method},
        {"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", parse_error::bad_method}, // a TLS ClientHello
        {"GET / HTTP/1.1\rHost: a\r\n\r\n", parse_error::bad_line_end},
        {"GET / HTTP/1.1\r\nHost : a\r\n\r\n", parse_error::bad_header_name},
        {"GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", parse_error::obs_fold},
        {"GET / HTTP/1.1\r\nHost: a\x7f\r\n\r\n", parse_error::bad_header_value},
        {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: x\r\n\r\n", parse_error::bad_content_length},
        {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n",
         parse_error::dup_content_length},
        {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999\r\n\r\n", parse_error::content_length_too_large},
    };
    for (const bad_case& c : cases) {
        SCOPED_TRACE(c.msg);
        const outcome o = check(c.msg);
        EXPECT_EQ(o.st, parse_status::bad);
        EXPECT_NE(o.facts.find(std::string("err=") + parse_error_name(c.err)), std::string::npos) << o.facts;
    }
}

TEST(Request, GarbageNeverReadsPastTheEnd)
{
    // Every byte value at every position of a short message: ends bad, done
    // or more, never consumes more than given (split.hh checks), no crash.
    std::string base = wrk_get;
    for (size_t pos = 0; pos < base.size(); pos += 3) {
        for (int v = 0; v < 256; v += 7) {
            std::string m = base;
            m[pos] = char(v);
            request_parser p;
            parse_status st;
            const uint32_t used = p.feed(reinterpret_cast<const uint8_t*>(m.data()), uint32_t(m.size()), 8192, st);
            EXPECT_LE(used, m.size());
        }
    }
}

} // namespace
} // namespace fg::http::test
