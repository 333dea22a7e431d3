#define BOOST_TEST_MODULE net_coalescing_stream
#include <boost/test/unit_test.hpp>

#include "net/coalescing_stream.hpp"

#include <string>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using actorexec::frame_batch;
using actorexec::net::coalescing_stream;

namespace {

frame_batch frame(std::string text) {
  return frame_batch::of(std::move(text));
}

/// Several frames in one buffer, as a session sends them.
frame_batch frames_of(const std::vector<std::string>& texts) {
  frame_batch b;
  for (auto& t : texts)
    b.add(t);
  return b;
}

/// A loopback connection: `server` wrapped in the stream under test, `peer`
/// a plain socket that sees exactly what went on the wire.
struct loopback {
  asio::io_context ioc;
  tcp::socket peer{ioc};
  std::unique_ptr<coalescing_stream> server;
  /// What on_written reported: total frame bytes, calls, last error.
  std::uint64_t written = 0;
  int reports = 0;
  boost::system::error_code write_error;

  loopback() {
    tcp::acceptor acceptor{ioc, {asio::ip::address_v4::loopback(), 0}};
    peer.connect(acceptor.local_endpoint());
    server = std::make_unique<coalescing_stream>(acceptor.accept());
    server->on_written(
        [this](auto ec, std::uint64_t n) {
          ++reports;
          written += n;
          if (ec)
            write_error = ec;
        },
        {});
  }

  /// Runs until `done` holds or nothing is left to run.
  template <class Pred>
  void run_until(Pred done) {
    ioc.restart();
    while (!done() && ioc.run_one() > 0) {
    }
  }

  /// Writes `data` as Beast does (async_write_some) and runs until the
  /// write completes.
  std::size_t beast_write(const std::string& data) {
    boost::system::error_code result;
    std::size_t n = 0;
    bool done = false;
    asio::async_write(*server, asio::buffer(data), [&](auto ec, auto bytes) {
      result = ec;
      n = bytes;
      done = true;
    });
    run_until([&] { return done; });
    BOOST_REQUIRE(done);
    BOOST_REQUIRE(!result);
    return n;
  }

  /// Queues frames and runs until their bytes were reported written.
  void send(frame_batch frames) {
    std::uint64_t expect = written + frames.text.size();
    BOOST_REQUIRE(server->send_text(std::move(frames)));
    run_until([&] { return written >= expect; });
    BOOST_REQUIRE_EQUAL(written, expect);
  }

  std::string read_exactly(std::size_t n) {
    std::string out(n, '\0');
    asio::read(peer, asio::buffer(out));
    return out;
  }
};

/// The header of an unmasked final text frame of `n` bytes, as RFC 6455
/// section 5.2 spells it.
std::string header(std::uint64_t n) {
  std::string h{"\x81"};
  if (n < 126) {
    h += static_cast<char>(n);
  } else if (n < 65536) {
    h += static_cast<char>(126);
    h += static_cast<char>(n >> 8);
    h += static_cast<char>(n & 0xff);
  } else {
    h += static_cast<char>(127);
    for (int shift = 56; shift >= 0; shift -= 8)
      h += static_cast<char>((n >> shift) & 0xff);
  }
  return h;
}

} // namespace

BOOST_AUTO_TEST_SUITE(net_coalescing_stream)

BOOST_AUTO_TEST_CASE(text_frames_carry_rfc6455_headers_of_each_length_form) {
  loopback lb;
  std::string small(125, 's');
  std::string medium(126, 'm');
  std::string at_16_bits(65535, 'x');
  std::string large(65536 + 7, 'l'); // referenced, not copied
  lb.send(frames_of({small, medium, at_16_bits, large}));
  std::string expect = header(small.size()) + small + header(medium.size()) +
                       medium + header(at_16_bits.size()) + at_16_bits +
                       header(large.size()) + large;
  BOOST_TEST(header(125).size() == 2u);
  BOOST_TEST(header(126).size() == 4u);
  BOOST_TEST(header(65536).size() == 10u);
  BOOST_TEST(lb.read_exactly(expect.size()) == expect);
  BOOST_TEST(lb.peer.available() == 0u);
}

BOOST_AUTO_TEST_CASE(many_small_frames_go_out_in_few_writes) {
  loopback lb;
  std::vector<std::string> frames;
  std::string expect;
  for (int i = 0; i < 1000; ++i) {
    auto text = "line " + std::to_string(i);
    expect += header(text.size()) + text;
    frames.push_back(std::move(text));
  }
  lb.send(frames_of(frames));
  // One batch: one report of every frame's bytes (headers excluded).
  BOOST_TEST(lb.reports == 1);
  BOOST_TEST(lb.read_exactly(expect.size()) == expect);
}

BOOST_AUTO_TEST_CASE(beast_writes_keep_their_place_among_frames) {
  loopback lb;
  BOOST_REQUIRE(lb.server->send_text(frame("one")));
  // A pong Beast writes while "one" is on the wire, then another frame.
  const std::string pong{"\x8a\x00", 2};
  BOOST_TEST(lb.beast_write(pong) == pong.size());
  lb.send(frame("two"));
  auto expect = header(3) + "one" + pong + header(3) + "two";
  BOOST_TEST(lb.read_exactly(expect.size()) == expect);
}

BOOST_AUTO_TEST_CASE(nothing_follows_a_close_frame) {
  loopback lb;
  const std::string close{"\x88\x02\x03\xe8", 4};
  lb.beast_write(close);
  BOOST_TEST(!lb.server->send_text(frame("late")));
  BOOST_TEST(lb.read_exactly(4) == close);
  lb.run_until([] { return false; });
  BOOST_TEST(lb.peer.available() == 0u);
}

BOOST_AUTO_TEST_CASE(the_next_close_frame_gets_the_replacement_code) {
  loopback lb;
  lb.server->replace_close_code(1002);
  // Not a Close frame: untouched.
  const std::string ping{"\x89\x02hi", 4};
  lb.beast_write(ping);
  BOOST_TEST(lb.read_exactly(4) == ping);
  // A Close frame echoing 5000 (0x1388) with a reason: the code becomes
  // 1002 (0x03EA), the rest stays.
  const std::string echo{"\x88\x04\x13\x88ok", 6};
  BOOST_TEST(lb.beast_write(echo) == echo.size());
  BOOST_TEST(lb.read_exactly(6) == std::string("\x88\x04\x03\xEAok", 6));
}

BOOST_AUTO_TEST_CASE(beast_writes_wait_while_the_backlog_is_large) {
  loopback lb;
  // Far more than the socket buffers take while the peer does not read.
  std::string big(32 << 20, 'b');
  BOOST_REQUIRE(lb.server->send_text(frame(big)));
  std::string more(coalescing_stream::max_control_backlog + 1, 'm');
  BOOST_REQUIRE(lb.server->send_text(frame(more)));
  bool done = false;
  const std::string pong{"\x8a\x00", 2};
  asio::async_write(*lb.server, asio::buffer(pong),
                    [&](auto ec, auto) { done = !ec; });
  lb.ioc.restart();
  lb.ioc.poll();
  BOOST_TEST(!done); // the big frame is still on the wire
  auto expect = header(big.size()) + big + header(more.size()) + more + pong;
  std::string got;
  std::thread reader{[&] { got = lb.read_exactly(expect.size()); }};
  lb.run_until([&] { return done && lb.written == big.size() + more.size(); });
  reader.join();
  BOOST_TEST(done);
  BOOST_TEST(got == expect);
}

BOOST_AUTO_TEST_CASE(teardown_sends_the_queued_bytes_first) {
  loopback lb;
  BOOST_REQUIRE(lb.server->send_text(frame("last words")));
  bool torn_down = false;
  boost::system::error_code teardown_ec;
  async_teardown(boost::beast::role_type::server, *lb.server, [&](auto ec) {
    teardown_ec = ec;
    torn_down = true;
  });
  lb.ioc.restart();
  std::thread io{[&] { lb.ioc.run(); }};
  // The queued frame, then the server's end of stream.
  auto expect = header(10) + "last words";
  BOOST_TEST(lb.read_exactly(expect.size()) == expect);
  char c;
  boost::system::error_code ec;
  lb.peer.read_some(asio::buffer(&c, 1), ec);
  BOOST_TEST(ec == asio::error::eof);
  lb.peer.shutdown(tcp::socket::shutdown_send);
  io.join();
  BOOST_TEST(torn_down);
  BOOST_TEST((!teardown_ec || teardown_ec == asio::error::eof));
}

BOOST_AUTO_TEST_CASE(a_failed_write_is_reported_once_and_refuses_more) {
  loopback lb;
  lb.peer.set_option(asio::socket_base::linger(true, 0));
  lb.peer.close(); // an RST: the next writes fail
  std::string big(1 << 20, 'x');
  for (int i = 0; i < 8 && !lb.write_error; ++i) {
    if (!lb.server->send_text(frame(big)))
      break;
    auto reports = lb.reports;
    lb.run_until([&] { return lb.reports > reports; });
  }
  BOOST_TEST(!!lb.write_error);
  BOOST_TEST(!lb.server->send_text(frame("after")));
  // Beast's writes fail with it too.
  boost::system::error_code result;
  bool done = false;
  asio::async_write(*lb.server, asio::buffer(std::string{"\x89\x00", 2}),
                    [&](auto ec, auto) {
                      result = ec;
                      done = true;
                    });
  lb.run_until([&] { return done; });
  BOOST_TEST(done);
  BOOST_TEST(!!result);
}

BOOST_AUTO_TEST_SUITE_END()
