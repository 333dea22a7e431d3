#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "app/config.hpp"

namespace actorexec::app {

/// How one setting is read from text into a `config`, and shown as text.
struct option_value {
  /// Stores `text`; false when it does not parse.
  std::function<bool(config&, const std::string&)> set;
  /// The setting of a `config` as `--help` shows it: given a default
  /// `config`, the default, so that the help cannot drift from the code.
  std::function<std::string(const config&)> show;
};

/// A decimal number without sign; false when `s` is anything else.
bool to_u64(const std::string& s, std::uint64_t& out);

/// `1/true/yes/on` or `0/false/no/off` (or empty: false).
bool to_bool(const std::string& s, bool& out);

/// A comma list, each item trimmed of blanks, empty items dropped.
std::vector<std::string> split_list(const std::string& s);

/// The member `f` of `c`, of `c.actors` or of `c.actors.limits`: one name
/// for a setting wherever it lives.
template <class C, class T>
auto& field(C& c, T config::*f) {
  return c.*f;
}

template <class C, class T>
auto& field(C& c, T settings::*f) {
  return c.actors.*f;
}

template <class C, class T>
auto& field(C& c, T protocol::request_limits::*f) {
  return c.actors.limits.*f;
}

/// A whole number, refused above what its field holds (a port above 65535).
template <class Member>
option_value number(Member f) {
  return {[f](config& c, const std::string& s) {
            using type = std::decay_t<decltype(field(c, f))>;
            std::uint64_t v;
            if (!to_u64(s, v) || v > std::numeric_limits<type>::max())
              return false;
            field(c, f) = static_cast<type>(v);
            return true;
          },
          [f](const config& c) { return std::to_string(field(c, f)); }};
}

/// A switch: `--flag` alone means true.
template <class Member>
option_value toggle(Member f) {
  return {
      [f](config& c, const std::string& s) { return to_bool(s, field(c, f)); },
      [f](const config& c) {
        return std::string{field(c, f) ? "true" : "false"};
      }};
}

/// Any text, the empty one included.
option_value any_text(std::string config::*f);

/// Text that must not be empty; an empty default shows as `empty`.
option_value nonempty_text(std::string config::*f, const char* empty);

/// The shell for `command`: bash, zsh or sh.
option_value shell_name();

/// Seconds, fractions allowed, kept as milliseconds.
option_value seconds_as_ms(std::uint64_t settings::*f);

/// A comma list parsed by `T::parse`; an empty default shows as `empty`.
template <class T>
option_value parsed_list(T settings::*f, const char* empty) {
  return {[f](config& c, const std::string& s) {
            c.actors.*f = T::parse(s);
            return true;
          },
          [f, empty](const config& c) {
            return std::string{(c.actors.*f).empty() ? empty : "(a list)"};
          }};
}

/// A comma list of names; every value given adds to it.
option_value name_list(std::vector<std::string> config::*f, const char* empty);

/// A comma list of names; the last value given replaces it.
option_value name_list(std::vector<std::string> settings::*f,
                       const char* empty);

/// A per-child resource limit (RLIMIT_*).
option_value rlimit(int resource);

/// `value`, shown as `text` instead: for a default that is a rule rather
/// than a number.
option_value shown_as(option_value value, std::string text);

} // namespace actorexec::app
