#pragma once

#include <string>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "loadtest/scenario.hpp"

namespace actorexec::loadtest {

/// The address of `url`: the runner connects to IP addresses and
/// `localhost` only, so no name is ever resolved. Throws scenario_error.
inline boost::asio::ip::tcp::endpoint make_endpoint(const ws_url& url) {
  auto host = url.host == "localhost" ? std::string{"127.0.0.1"} : url.host;
  boost::system::error_code ec;
  auto addr = boost::asio::ip::make_address(host, ec);
  if (ec)
    throw scenario_error("url: host must be an IP address or localhost");
  return {addr, url.port};
}

} // namespace actorexec::loadtest
