#pragma once

// Beast's types only: the templates that write and parse HTTP are
// instantiated in http_exchange.cpp alone, for the WebSocket upgrade and the
// /metrics GET both.

#include <chrono>
#include <functional>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

namespace actorexec::loadtest {

/// One HTTP/1.1 request of the runner and its response.
struct http_exchange {
  boost::beast::http::request<boost::beast::http::empty_body> request;
  boost::beast::http::response<boost::beast::http::string_body> response;
  /// Bytes read past the response stay here (a WebSocket's first frames).
  boost::beast::flat_buffer buffer;
  /// The connect succeeded: a later error is the exchange's own.
  bool connected = false;
};

/// Connects `stream` to `endpoint`, writes `x.request` and reads
/// `x.response`, all within `timeout`; `done` gets the first error, or none.
/// `stream` and `x` must live until then. The deadline stays set on `stream`
/// (expires_never() lifts it).
void async_http_exchange(boost::beast::tcp_stream& stream,
                         const boost::asio::ip::tcp::endpoint& endpoint,
                         http_exchange& x, std::chrono::milliseconds timeout,
                         std::function<void(boost::system::error_code)> done);

} // namespace actorexec::loadtest
