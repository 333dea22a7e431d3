// actorexec-beast-sink: the baseline of the chunks throughput target (issue
// 4). A minimal Boost.Beast WebSocket server, no process and no actors: each
// connection gets N text messages of S bytes as fast as the socket takes
// them, then a Close with 1000. What actorexec sends in `chunks` framing is
// compared with what this sends over the same loopback in the same run.
//
// One io_context on one thread, async operations, error codes throughout.

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

namespace {

constexpr const char* usage =
    R"(usage: actorexec-beast-sink [--port P] [--messages N] [--size S]
                            [--max-connections K]

Listens on 127.0.0.1:P (0: any free port) and, on every WebSocket connection,
sends N text messages of S bytes, then closes with 1000. Prints
{"event":"listening","port":P} on stdout once ready. Ends on SIGINT or
SIGTERM, or after K connections have ended (0: never).

  --port P             listening port (default 0)
  --messages N         messages per connection (default 1000)
  --size S             bytes per message (default 65536)
  --max-connections K  exit after K connections ended (default 0)
)";

/// Every setting is a count, so one table parses them all.
struct options {
  std::uint64_t port = 0;
  std::uint64_t messages = 1000;
  std::uint64_t size = 64 * 1024;
  std::uint64_t max_connections = 0;
};

[[noreturn]] void usage_error(const std::string& what) {
  std::cerr << "actorexec-beast-sink: " << what << "\n\n" << usage;
  std::exit(2);
}

/// A flag, where its value goes, and the largest value it takes.
struct flag {
  std::string_view name;
  std::uint64_t options::*field;
  std::uint64_t max;
};

constexpr std::array<flag, 4> flags{{
    {"--port", &options::port, 65535},
    {"--messages", &options::messages, UINT64_MAX},
    // Beast clients refuse messages above 16 MiB unless told otherwise.
    {"--size", &options::size, 16 << 20},
    {"--max-connections", &options::max_connections, UINT64_MAX},
}};

void set_flag(options& o, const flag& f, const char* text) {
  char* end = nullptr;
  errno = 0;
  auto n = std::strtoull(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || text[0] == '-' || n > f.max)
    usage_error(std::string{f.name} + ": not an integer from 0 to " +
                std::to_string(f.max) + ": " + text);
  o.*f.field = n;
}

options parse_args(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << usage;
      std::exit(0);
    }
    auto f = std::find_if(flags.begin(), flags.end(),
                          [arg](const flag& x) { return x.name == arg; });
    if (f == flags.end())
      usage_error("unknown argument " + std::string{arg});
    if (++i == argc)
      usage_error(std::string{arg} + " needs a value");
    set_flag(o, *f, argv[i]);
  }
  return o;
}

/// Counts ended connections and stops the loop after the last one allowed.
/// Sessions report their end explicitly, never from a destructor: those
/// also run while the io_context is torn down, after this is gone.
struct sink_state {
  asio::io_context& ioc;
  const options& opts;
  /// The payload every message sends: written from, never copied.
  std::string payload;
  std::uint64_t ended = 0;

  void connection_ended() {
    if (opts.max_connections != 0 && ++ended >= opts.max_connections)
      ioc.stop();
  }
};

/// One WebSocket: accept, write N messages one after another, close.
class sink_session : public std::enable_shared_from_this<sink_session> {
public:
  sink_session(tcp::socket socket, sink_state& state)
      : ws_(std::move(socket)), state_(state) {}

  void run() {
    // The same settings as actorexec's websocket_session: whole messages
    // in one frame, text, no compression; Nagle off as on its listener.
    error_code ignored;
    beast::get_lowest_layer(ws_).socket().set_option(tcp::no_delay(true),
                                                     ignored);
    ws_.set_option(
        websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws_.auto_fragment(false);
    ws_.text(true);
    ws_.async_accept(
        [self = shared_from_this()](error_code ec) { self->on_accept(ec); });
  }

private:
  void on_accept(error_code ec) {
    if (ec)
      return fail(ec, "accept");
    do_write();
  }

  void do_write() {
    if (sent_ == state_.opts.messages)
      return do_close();
    ws_.async_write(asio::buffer(state_.payload),
                    [self = shared_from_this()](error_code ec, std::size_t) {
                      self->on_write(ec);
                    });
  }

  void on_write(error_code ec) {
    if (ec)
      return fail(ec, "write");
    ++sent_;
    do_write();
  }

  void do_close() {
    ws_.async_close(websocket::close_code::normal,
                    [self = shared_from_this()](error_code ec) {
                      if (ec)
                        return self->fail(ec, "close");
                      self->state_.connection_ended();
                    });
  }

  /// A client that goes away early is no error of the sink's, but worth a
  /// line: a comparison run must not count a broken connection as done.
  void fail(error_code ec, const char* what) {
    state_.connection_ended();
    if (ec == asio::error::operation_aborted || ec == websocket::error::closed)
      return;
    std::cerr << "actorexec-beast-sink: " << what << ": " << ec.message()
              << " after " << sent_ << " messages\n";
  }

  websocket::stream<beast::tcp_stream> ws_;
  sink_state& state_;
  std::uint64_t sent_ = 0;
};

void do_accept(tcp::acceptor& acceptor, sink_state& state) {
  acceptor.async_accept([&acceptor, &state](error_code ec, tcp::socket s) {
    if (ec == asio::error::operation_aborted)
      return;
    if (ec)
      std::cerr << "actorexec-beast-sink: accept: " << ec.message() << '\n';
    else
      std::make_shared<sink_session>(std::move(s), state)->run();
    do_accept(acceptor, state);
  });
}

int run(const options& opts) {
  asio::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  tcp::endpoint endpoint{asio::ip::make_address_v4("127.0.0.1"),
                         static_cast<std::uint16_t>(opts.port)};
  error_code ec;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec)
    acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec)
    acceptor.bind(endpoint, ec);
  if (!ec)
    acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    std::cerr << "actorexec-beast-sink: listen on 127.0.0.1:" << opts.port
              << ": " << ec.message() << '\n';
    return 1;
  }
  sink_state state{ioc, opts, std::string(opts.size, 'x')};
  asio::signal_set signals{ioc, SIGINT, SIGTERM};
  signals.async_wait([&ioc](error_code, int) { ioc.stop(); });
  do_accept(acceptor, state);
  std::cout << R"({"event":"listening","host":"127.0.0.1","port":)"
            << acceptor.local_endpoint().port() << "}" << std::endl;
  ioc.run();
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  return run(parse_args(argc, argv));
}
