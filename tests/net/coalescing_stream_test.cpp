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
using actorexec::net::coalescing_stream;

namespace {

/// A loopback connection: `server` wrapped in the stream under test, `peer`
/// a plain socket that sees exactly what went on the wire.
struct loopback {
  asio::io_context ioc;
  tcp::socket peer{ioc};
  std::unique_ptr<coalescing_stream> server;

  loopback() {
    tcp::acceptor acceptor{ioc, {asio::ip::address_v4::loopback(), 0}};
    peer.connect(acceptor.local_endpoint());
    server = std::make_unique<coalescing_stream>(acceptor.accept());
  }

  /// Writes `data` through the stream and runs until the write completes.
  std::size_t write(const std::string& data) {
    boost::system::error_code result;
    std::size_t n = 0;
    bool done = false;
    asio::async_write(*server, asio::buffer(data), [&](auto ec, auto bytes) {
      result = ec;
      n = bytes;
      done = true;
    });
    ioc.restart();
    while (!done && ioc.run_one() > 0) {
    }
    BOOST_REQUIRE(done);
    BOOST_REQUIRE(!result);
    return n;
  }

  std::string read_exactly(std::size_t n) {
    std::string out(n, '\0');
    asio::read(peer, asio::buffer(out));
    return out;
  }
};

} // namespace

BOOST_AUTO_TEST_SUITE(net_coalescing_stream)

BOOST_AUTO_TEST_CASE(held_writes_complete_without_reaching_the_socket) {
  loopback lb;
  lb.server->hold(true);
  BOOST_TEST(lb.write("first,") == 6u);
  BOOST_TEST(lb.write("second,") == 7u);
  // Loopback delivers a send before it returns: had either write gone out,
  // its bytes would be readable now.
  BOOST_TEST(lb.peer.available() == 0u);
  lb.server->hold(false);
  BOOST_TEST(lb.write("third") == 5u);
  BOOST_TEST(lb.read_exactly(18) == "first,second,third");
  BOOST_TEST(lb.peer.available() == 0u);
}

BOOST_AUTO_TEST_CASE(writes_without_hold_go_out_at_once) {
  loopback lb;
  BOOST_TEST(lb.write("now") == 3u);
  BOOST_TEST(lb.read_exactly(3) == "now");
}

BOOST_AUTO_TEST_CASE(a_write_that_would_overflow_flushes_in_order) {
  loopback lb;
  lb.server->hold(true);
  std::string held(coalescing_stream::max_pending - 10, 'a');
  lb.write(held);
  BOOST_TEST(lb.peer.available() == 0u);
  // Still holding, but this one does not fit: both go out, in order.
  std::string big(20, 'b');
  BOOST_TEST(lb.write(big) == big.size());
  BOOST_TEST(lb.read_exactly(held.size() + big.size()) == held + big);
}

BOOST_AUTO_TEST_CASE(teardown_sends_the_held_bytes_first) {
  loopback lb;
  lb.server->hold(true);
  lb.write("close frame");
  BOOST_TEST(lb.peer.available() == 0u);
  bool torn_down = false;
  boost::system::error_code teardown_ec;
  async_teardown(boost::beast::role_type::server, *lb.server, [&](auto ec) {
    teardown_ec = ec;
    torn_down = true;
  });
  lb.ioc.restart();
  std::thread io{[&] { lb.ioc.run(); }};
  // The held bytes, then the server's end of stream.
  BOOST_TEST(lb.read_exactly(11) == "close frame");
  char c;
  boost::system::error_code ec;
  lb.peer.read_some(asio::buffer(&c, 1), ec);
  BOOST_TEST(ec == asio::error::eof);
  lb.peer.shutdown(tcp::socket::shutdown_send);
  io.join();
  BOOST_TEST(torn_down);
  BOOST_TEST((!teardown_ec || teardown_ec == asio::error::eof));
}

BOOST_AUTO_TEST_CASE(the_next_close_frame_gets_the_replacement_code) {
  loopback lb;
  lb.server->replace_close_code(1002);
  // Not a Close frame: untouched.
  const std::string text{"\x81\x02hi", 4};
  lb.write(text);
  BOOST_TEST(lb.read_exactly(4) == text);
  // A Close frame echoing 5000 (0x1388) with a reason: the code becomes
  // 1002 (0x03EA), the rest stays.
  const std::string echo{"\x88\x04\x13\x88ok", 6};
  BOOST_TEST(lb.write(echo) == echo.size());
  BOOST_TEST(lb.read_exactly(6) == std::string("\x88\x04\x03\xEAok", 6));
  // Only the next one.
  lb.write(echo);
  BOOST_TEST(lb.read_exactly(6) == echo);
}

BOOST_AUTO_TEST_SUITE_END()
