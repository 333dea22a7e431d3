#pragma once

// The Asio side of event_loop, for the few translation units that need it.

#include <boost/asio/io_context.hpp>

#include "loadtest/event_loop.hpp"

namespace actorexec::loadtest {

struct event_loop::impl {
  /// One thread runs it: no locking inside Asio.
  boost::asio::io_context ioc{1};
};

} // namespace actorexec::loadtest
