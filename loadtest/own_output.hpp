#pragma once

#include <string_view>

#include "loadtest/rpc_fields.hpp"

namespace actorexec::loadtest {

/// Reads a `process.output` frame laid out byte for byte as actorexec
/// writes it (`protocol::append_output`) into `f`, without the parser: most
/// of what a busy runner reads is such frames. False, with `f` unspecified,
/// for anything else (the same members in another order, spaces, a bad
/// escape): the parser decides those.
bool scan_own_output(std::string_view text, rpc_fields& f);

} // namespace actorexec::loadtest
