#pragma once

#include <string>
#include <string_view>

namespace actorexec::loadtest {

/// Reads the bearer token from `path` as the server reads its
/// `--auth-token-file`: trailing whitespace is dropped, and the rest must be
/// printable ASCII without spaces (it goes into a header). Throws
/// scenario_error naming `flag` otherwise.
std::string read_token_file(const std::string& path, const std::string& flag);

/// What a refused WebSocket upgrade means, plainly: the status, its reason
/// and a hint, e.g. "HTTP 401 Unauthorized (check --token-file)" or
/// "HTTP 503 Service Unavailable (too many connections)". `reason` is the
/// server's reason phrase, used for statuses without a phrase of ours;
/// `body` may hold actorexec's `{"error":"..."}`, which becomes the hint
/// where none is fixed.
std::string describe_refused_upgrade(unsigned status, std::string_view reason,
                                     std::string_view body);

} // namespace actorexec::loadtest
