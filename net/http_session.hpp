#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "net/server_context.hpp"

namespace actorexec::net {

/// Plain HTTP on the WebSocket port: `/health`, `/healthz`, `/readyz`,
/// `/metrics`, 404 for anything else, and the upgrade of `/ws/mcp` (alias
/// `/ws`) into a websocket_session once Origin, token and connection limits
/// allow it. Requests have a deadline (which also cuts off a slowloris
/// client) and a body limit, and connections not yet upgraded count against
/// `--max-http-connections`.
class http_session : public std::enable_shared_from_this<http_session> {
public:
  /// `slot`: the connection's place under `--max-http-connections`, held
  /// until the connection ends or becomes a WebSocket.
  http_session(boost::asio::ip::tcp::socket&& socket,
               std::shared_ptr<server_context> ctx, std::shared_ptr<void> slot);

  void run();

private:
  using request_type =
      boost::beast::http::request<boost::beast::http::string_body>;
  using response_type =
      boost::beast::http::response<boost::beast::http::string_body>;

  void do_read();
  void on_read(boost::system::error_code ec, std::size_t);
  void handle(request_type req);
  void upgrade(request_type req);
  void serve(const request_type& req, std::string_view path);
  /// Answers `req` with `status` and a JSON `{"error": text}`, closing.
  void refuse(const request_type& req, boost::beast::http::status status,
              std::string_view text);
  /// The peer's address, or "unknown".
  std::string remote_address() const;
  void send(response_type res);
  void on_write(bool keep_alive, boost::system::error_code ec, std::size_t);
  void do_close();

  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  std::shared_ptr<server_context> ctx_;
  std::optional<
      boost::beast::http::request_parser<boost::beast::http::string_body>>
      parser_;
  std::shared_ptr<response_type> res_;
  std::shared_ptr<void> slot_;
};

} // namespace actorexec::net
