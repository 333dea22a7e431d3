// The plain HTTP GET the sampler uses for the server's /metrics: a private
// io_context per call, so it runs on the sampler's thread, apart from the
// sessions' event loop.

#include "loadtest/http_get.hpp"

#include <boost/asio/io_context.hpp>

#include "loadtest/http_exchange.hpp"
#include "loadtest/tcp_endpoint.hpp"

namespace asio = boost::asio;
namespace http = boost::beast::http;

namespace actorexec::loadtest {

bool http_get(const ws_url& url, const std::string& token,
              std::chrono::milliseconds timeout, std::string& body,
              std::string& error) {
  asio::io_context ioc{1};
  asio::ip::tcp::endpoint ep;
  try {
    ep = make_endpoint(url);
  } catch (const scenario_error& e) {
    error = e.what();
    return false;
  }
  boost::beast::tcp_stream stream{ioc};
  http_exchange x;
  x.request = {http::verb::get, url.target, 11};
  x.request.set(http::field::host, url.host + ":" + std::to_string(url.port));
  x.request.set(http::field::user_agent, "actorexec-load");
  x.request.set(http::field::connection, "close");
  if (!token.empty())
    x.request.set(http::field::authorization, "Bearer " + token);
  boost::system::error_code result;
  async_http_exchange(stream, ep, x, timeout,
                      [&result](boost::system::error_code ec) { result = ec; });
  ioc.run();
  const auto& res = x.response;
  if (result) {
    error = "GET " + url.target + ": " + result.message();
    return false;
  }
  if (res.result() != http::status::ok) {
    error = "GET " + url.target + ": HTTP " + std::to_string(res.result_int()) +
            (res.result() == http::status::unauthorized
                 ? " (the server wants its token: check --token-file)"
                 : "");
    return false;
  }
  body = std::move(x.response.body());
  return true;
}

} // namespace actorexec::loadtest
