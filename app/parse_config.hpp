#pragma once

#include <map>
#include <optional>
#include <string>

#include "app/config.hpp"

namespace actorexec::app {

/// Variable names to values.
using environment = std::map<std::string, std::string>;

/// Reads flags (`--name value` or `--name=value`) with environment fallbacks
/// (`ACTOREXEC_NAME`, then the original service's names), then checks the
/// result (config_checks.hpp). `env` is the process environment in
/// production. Flags win over variables. Returns an error message, or
/// nothing on success.
std::optional<std::string> parse_config(int argc, const char* const* argv,
                                        const environment& env, config& out);

/// The process environment as a map.
environment environment_map();

} // namespace actorexec::app
