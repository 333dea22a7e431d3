#include "loadtest/http_exchange.hpp"

#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

namespace http = boost::beast::http;
using error_code = boost::system::error_code;

namespace actorexec::loadtest {

void async_http_exchange(boost::beast::tcp_stream& stream,
                         const boost::asio::ip::tcp::endpoint& endpoint,
                         http_exchange& x, std::chrono::milliseconds timeout,
                         std::function<void(error_code)> done) {
  // One deadline for the whole exchange: tcp_stream's timer covers every
  // operation started until it is reset.
  stream.expires_after(timeout);
  stream.async_connect(endpoint, [&stream, &x,
                                  done = std::move(done)](error_code ec) {
    if (ec)
      return done(ec);
    x.connected = true;
    http::async_write(
        stream, x.request,
        [&stream, &x, done = std::move(done)](error_code ec, std::size_t) {
          if (ec)
            return done(ec);
          http::async_read(stream, x.buffer, x.response,
                           [done = std::move(done)](error_code ec,
                                                    std::size_t) { done(ec); });
        });
  });
}

} // namespace actorexec::loadtest
