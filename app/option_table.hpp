#pragma once

#include <string>
#include <vector>

#include <boost/program_options/options_description.hpp>

#include "app/option_values.hpp"

namespace actorexec::app {

/// What a flag takes.
enum class option_kind {
  /// `--flag V` or `--flag=V`; given twice, the last one wins.
  value,
  /// `--flag` alone means true; `--flag=false` still works.
  toggle,
  /// Every `--flag V` adds to the list (its variables take a comma list).
  repeatable,
};

/// One setting: its flag, its variables and how its value is read.
struct option {
  const char* flag;
  const char* env;
  /// The original service's variable, losing to `env`; or nullptr.
  const char* seed_env;
  const char* help;
  option_value value;
  option_kind kind = option_kind::value;
};

/// Every setting, in `--help` order.
const std::vector<option>& option_table();

/// The setting named `flag` (without dashes), or nullptr.
const option* find_option(const std::string& flag);

/// The table for Program_options, with `--help` and `--version`. Every
/// setting's value is a list of strings: the table's own readers check
/// them, exactly as the seed did, and a flag given twice is not an error.
boost::program_options::options_description describe_options();

/// `--help` text: every flag with its default and its variables.
std::string help_text();

} // namespace actorexec::app
