// The plain HTTP GET the sampler uses for the server's /metrics: a private
// io_context per call, so it runs on the sampler's thread, apart from the
// sessions' event loop.

#include "loadtest/http_get.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "loadtest/tcp_endpoint.hpp"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

namespace actorexec::loadtest {

namespace {

/// One GET on `stream`: connect, write, read; `done` gets the first error.
class http_exchange {
public:
  http_exchange(asio::io_context& ioc, const ws_url& url)
      : stream_(ioc), req_(http::verb::get, url.target, 11) {
    req_.set(http::field::host, url.host + ":" + std::to_string(url.port));
    req_.set(http::field::user_agent, "actorexec-load");
    req_.set(http::field::connection, "close");
  }

  /// Runs the exchange; the io_context must be run to complete it.
  void start(const tcp::endpoint& ep, std::chrono::milliseconds timeout) {
    // One deadline for the whole exchange: tcp_stream's timer covers every
    // operation started until it is reset.
    stream_.expires_after(timeout);
    stream_.async_connect(ep, [this](error_code ec) { on_connect(ec); });
  }

  error_code result;
  http::response<http::string_body> res;

private:
  void on_connect(error_code ec) {
    if (ec)
      return void(result = ec);
    http::async_write(stream_, req_, [this](error_code ec, std::size_t) {
      if (ec)
        return void(result = ec);
      http::async_read(stream_, buf_, res,
                       [this](error_code ec, std::size_t) { result = ec; });
    });
  }

  beast::tcp_stream stream_;
  http::request<http::empty_body> req_;
  beast::flat_buffer buf_;
};

} // namespace

bool http_get(const ws_url& url, std::chrono::milliseconds timeout,
              std::string& body, std::string& error) {
  asio::io_context ioc{1};
  tcp::endpoint ep;
  try {
    ep = make_endpoint(url);
  } catch (const scenario_error& e) {
    error = e.what();
    return false;
  }
  http_exchange x{ioc, url};
  x.start(ep, timeout);
  ioc.run();
  if (x.result) {
    error = "GET " + url.target + ": " + x.result.message();
    return false;
  }
  if (x.res.result() != http::status::ok) {
    error = "GET " + url.target + ": HTTP " +
            std::to_string(x.res.result_int()) +
            (x.res.result() == http::status::unauthorized
                 ? " (the server wants its token: add ?token=...)"
                 : "");
    return false;
  }
  body = std::move(x.res.body());
  return true;
}

} // namespace actorexec::loadtest
