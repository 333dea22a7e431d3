#pragma once

#include <chrono>
#include <string>

#include "loadtest/scenario.hpp"

namespace actorexec::loadtest {

/// GETs `url` over plain HTTP/1.1 on a private io_context, with
/// `Authorization: Bearer token` unless `token` is empty: the whole exchange
/// ends within `timeout`. The body of a 200 goes to `body`; any other
/// outcome returns false with `error` set. Safe on any thread.
bool http_get(const ws_url& url, const std::string& token,
              std::chrono::milliseconds timeout, std::string& body,
              std::string& error);

} // namespace actorexec::loadtest
