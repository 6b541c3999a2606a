// http::response_parser: every response fed whole and split at every byte
// boundary (split.hh) must end the same way.
#include <string>

#include <gtest/gtest.h>

#include "http/response.hh"
#include "split.hh"

namespace fg::http::test {
namespace {

uint32_t feed(response_parser& p, const uint8_t* b, uint32_t n, parse_status& st) { return p.feed(b, n, st); }

std::string facts(const response_parser& p)
{
    return "status=" + std::to_string(p.status()) + " ok=" + std::to_string(p.ok()) +
           " close=" + std::to_string(p.close()) + " left=" + std::to_string(p.body_left()) +
           " err=" + parse_error_name(p.error());
}

outcome check(const std::string& msg) { return every_split<response_parser>(msg, feed, facts); }

const std::string ok_200 = "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nContent-Type: text/html\r\n"
                           "Content-Length: 12\r\nConnection: keep-alive\r\n\r\nhello world\n";

TEST(Response, OkWithBody)
{
    const outcome o = check(ok_200);
    EXPECT_EQ(o.st, parse_status::done);
    EXPECT_EQ(o.consumed, ok_200.size());
    EXPECT_EQ(o.facts, "status=200 ok=1 close=0 left=0 err=none");
}

TEST(Response, StopsAtTheEndOfTheBody)
{
    // The next response's bytes are not this one's: consumed ends at the body.
    const std::string two = ok_200 + "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
    const outcome o = check(two);
    EXPECT_EQ(o.st, parse_status::done);
    EXPECT_EQ(o.consumed, ok_200.size());

    response_parser p;
    parse_status st;
    const auto* b = reinterpret_cast<const uint8_t*>(two.data());
    uint32_t used = p.feed(b, uint32_t(two.size()), st);
    ASSERT_EQ(st, parse_status::done);
    p.reset();
    used += p.feed(b + used, uint32_t(two.size() - used), st);
    EXPECT_EQ(st, parse_status::done);
    EXPECT_EQ(used, two.size());
    EXPECT_EQ(p.status(), 404);
    EXPECT_FALSE(p.ok());
    EXPECT_FALSE(p.close());
}

TEST(Response, LargeBodyIsCountedNotHeld)
{
    std::string r = "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n";
    const size_t head = r.size();
    r += std::string(100000, 'b');
    response_parser p;
    parse_status st;
    const auto* b = reinterpret_cast<const uint8_t*>(r.data());
    EXPECT_EQ(p.feed(b, uint32_t(head + 10), st), head + 10);
    EXPECT_EQ(st, parse_status::more);
    EXPECT_EQ(p.body_left(), 100000u - 10);
    EXPECT_EQ(p.feed(b + head + 10, uint32_t(r.size() - head - 10), st), r.size() - head - 10);
    EXPECT_EQ(st, parse_status::done);
    EXPECT_TRUE(p.ok());
    // And split everywhere in the head and the first bytes of the body.
    const outcome o = check(r.substr(0, head + 40));
    EXPECT_EQ(o.st, parse_status::more);
    EXPECT_EQ(o.facts, "status=200 ok=1 close=0 left=99960 err=none");
}

TEST(Response, ConnectionClose)
{
    const outcome o = check("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok");
    EXPECT_EQ(o.facts, "status=200 ok=1 close=1 left=0 err=none");
    // A token list, any case, OWS around commas.
    const outcome l = check("HTTP/1.1 200 OK\r\nconnection:Upgrade ,  CLOSE\r\nContent-Length: 0\r\n\r\n");
    EXPECT_EQ(l.facts, "status=200 ok=1 close=1 left=0 err=none");
    // "closed" and "keep-alive-ish" are other tokens.
    const outcome n = check("HTTP/1.1 200 OK\r\nConnection: closed, keep-alive-ish\r\nContent-Length: 0\r\n\r\n");
    EXPECT_EQ(n.facts, "status=200 ok=1 close=0 left=0 err=none");
}

TEST(Response, Http10NeedsKeepAlive)
{
    EXPECT_EQ(check("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").facts, "status=200 ok=1 close=1 left=0 err=none");
    EXPECT_EQ(check("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n").facts,
              "status=200 ok=1 close=0 left=0 err=none");
}

TEST(Response, NonSuccessIsNotOk)
{
    const outcome o = check("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy");
    EXPECT_EQ(o.st, parse_status::done);
    EXPECT_EQ(o.facts, "status=503 ok=0 close=0 left=0 err=none");
    EXPECT_EQ(check("HTTP/1.1 301 Moved\r\nLocation: /x\r\nContent-Length: 0\r\n\r\n").facts,
              "status=301 ok=0 close=0 left=0 err=none");
}

TEST(Response, NoBodyStatuses)
{
    // 204 and 304 end at the empty line whatever Content-Length says.
    const std::string r204 = "HTTP/1.1 204 No Content\r\nContent-Length: 99\r\n\r\n";
    const outcome a = check(r204 + "HTTP/1.1");
    EXPECT_EQ(a.st, parse_status::done);
    EXPECT_EQ(a.consumed, r204.size());
    EXPECT_EQ(check("HTTP/1.1 304 Not Modified\r\n\r\n").st, parse_status::done);
}

TEST(Response, InterimResponsesAreSkipped)
{
    const std::string r = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n" + ok_200;
    const outcome o = check(r);
    EXPECT_EQ(o.st, parse_status::done);
    EXPECT_EQ(o.consumed, r.size());
    EXPECT_EQ(o.facts, "status=200 ok=1 close=0 left=0 err=none");
    EXPECT_EQ(check("HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n").facts,
              "status=101 ok=0 close=0 left=0 err=bad_status");
}

TEST(Response, ReasonMayBeEmptyOrMissing)
{
    EXPECT_EQ(check("HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n").st, parse_status::done);
    EXPECT_EQ(check("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n").st, parse_status::done);
}

TEST(Response, BareLfLineEnds)
{
    const outcome o = check("HTTP/1.1 200 OK\nContent-Length: 3\nConnection: close\n\nabc");
    EXPECT_EQ(o.st, parse_status::done);
    EXPECT_EQ(o.facts, "status=200 ok=1 close=1 left=0 err=none");
}

TEST(Response, BodyToTheClose)
{
    const std::string r = "HTTP/1.1 200 OK\r\nServer: x\r\n\r\nsome body bytes";
    const outcome o = check(r);
    EXPECT_EQ(o.st, parse_status::more);
    EXPECT_EQ(o.consumed, r.size());
    response_parser p;
    parse_status st;
    p.feed(reinterpret_cast<const uint8_t*>(r.data()), uint32_t(r.size()), st);
    EXPECT_EQ(p.finish(), parse_status::done);
    EXPECT_TRUE(p.ok());
    EXPECT_TRUE(p.close());
}

TEST(Response, TruncatedAtTheClose)
{
    response_parser p;
    parse_status st;
    const std::string r = ok_200.substr(0, ok_200.size() - 3);
    p.feed(reinterpret_cast<const uint8_t*>(r.data()), uint32_t(r.size()), st);
    EXPECT_EQ(st, parse_status::more);
    EXPECT_EQ(p.finish(), parse_status::bad);
    EXPECT_EQ(p.error(), parse_error::truncated);
    response_parser q;
    EXPECT_FALSE(q.started());
    EXPECT_EQ(q.finish(), parse_status::bad);
    EXPECT_EQ(q.error(), parse_error::truncated);
}

TEST(Response, ChunkedIsUnsupported)
{
    const outcome o = check("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
    EXPECT_EQ(o.st, parse_status::unsupported);
    EXPECT_EQ(o.facts, "status=200 ok=1 close=0 left=0 err=transfer_encoding");
    // Even with a Content-Length beside it (RFC 9112 6.3: Transfer-Encoding wins).
    EXPECT_EQ(check("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: gzip, chunked\r\n\r\n").st,
              parse_status::unsupported);
}

struct bad_case {
    const char* msg;
    parse_error err;
};

TEST(Response, Malformed)
{
    const bad_case cases[] = {
        {"HTTP/2 200 OK\r\n\r\n", parse_error::bad_version},
        {"http/1.1 200 OK\r\n\r\n", parse_error::bad_version},
        {"HTTP/1.1  200 OK\r\n\r\n", parse_error::bad_status},
        {"HTTP/1.1 20 OK\r\n\r\n", parse_error::bad_status},
        {"HTTP/1.1 099 Low\r\n\r\n", parse_error::bad_status},
        {"HTTP/1.1 2000 OK\r\n\r\n", parse_error::bad_status},
        {"HTTP/1.1 200 OK\rX", parse_error::bad_line_end},
        {"HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\n", parse_error::bad_header_name},
        {"HTTP/1.1 200 OK\r\n: 5\r\n\r\n", parse_error::bad_header_name},
        {"HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\n\r\n", parse_error::obs_fold},
        {"HTTP/1.1 200 OK\r\nX-A: a\x01z\r\n\r\n", parse_error::bad_header_value},
        {"HTTP/1.1 200 OK\r\nContent-Length: 12a\r\n\r\n", parse_error::bad_content_length},
        {"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", parse_error::bad_content_length},
        {"HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n", parse_error::bad_content_length},
        {"HTTP/1.1 200 OK\r\nContent-Length: 1 2\r\n\r\n", parse_error::bad_content_length},
        {"HTTP/1.1 200 OK\r\nContent-Length: 4294967296\r\n\r\n", parse_error::content_length_too_large},
        {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n", parse_error::dup_content_length},
        {"HTTP/1.1 200 OK\r\nX: y\r\r\n", parse_error::bad_line_end},
        {"<html>garbage</html>", parse_error::bad_version},
    };
    for (const bad_case& c : cases) {
        SCOPED_TRACE(c.msg);
        const outcome o = check(c.msg);
        EXPECT_EQ(o.st, parse_status::bad);
        EXPECT_NE(o.facts.find(std::string("err=") + parse_error_name(c.err)), std::string::npos) << o.facts;
    }
}

TEST(Response, LargestContentLength)
{
    const outcome o = check("HTTP/1.1 200 OK\r\nContent-Length: 4294967295\r\n\r\nab");
    EXPECT_EQ(o.st, parse_status::more);
    EXPECT_EQ(o.facts, "status=200 ok=1 close=0 left=4294967293 err=none");
}

TEST(Response, FeedAfterTheEndTakesNothing)
{
    response_parser p;
    parse_status st;
    const std::string r = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    p.feed(reinterpret_cast<const uint8_t*>(r.data()), uint32_t(r.size()), st);
    ASSERT_EQ(st, parse_status::done);
    EXPECT_EQ(p.feed(reinterpret_cast<const uint8_t*>("x"), 1, st), 0u);
    EXPECT_EQ(st, parse_status::done);
}

} // namespace
} // namespace fg::http::test
