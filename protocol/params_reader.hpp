#pragma once

// How the seed protocol's methods read their `params` (protocol/decode.cpp).

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "protocol/errors.hpp"
#include "protocol/messages.hpp"

namespace actorexec::protocol {

/// Reads the members of a `params` object. Every accessor returns a neutral
/// value on failure and records the first error, so that a method's parser
/// is a flat list of reads followed by one check of `error`.
class params_reader {
public:
  explicit params_reader(const boost::json::object& obj) : obj_(obj) {}

  /// The members of the params object no lookup asked for.
  std::vector<std::string> unknown() const {
    std::vector<std::string> out;
    for (auto& kv : obj_) {
      std::string_view key{kv.key().data(), kv.key().size()};
      if (std::find(known_.begin(), known_.end(), key) == known_.end())
        out.emplace_back(key);
    }
    return out;
  }

  /// The first error met, if any.
  std::optional<rpc_error> error;

  /// Records an error unless one is recorded already.
  void fail(error_code code, std::string message) {
    if (!error)
      error = make_error(code, std::move(message));
  }

  /// Records a -32602 error naming the offending param.
  void invalid(std::string_view what) {
    fail(error_code::invalid_params, "Invalid params: " + std::string{what});
  }

  /// Looks up an optional member; JSON null counts as absent. Every key a
  /// method looks up is one it knows.
  const boost::json::value* find(std::string_view key) {
    known_.push_back(key);
    auto v = obj_.if_contains(key);
    return v == nullptr || v->is_null() ? nullptr : v;
  }

  std::optional<std::string> string(std::string_view key) {
    auto v = find(key);
    if (v == nullptr)
      return std::nullopt;
    if (!v->is_string()) {
      invalid(quoted(key) + " must be a string");
      return std::nullopt;
    }
    auto& text = v->get_string();
    return std::string{text.data(), text.size()};
  }

  std::optional<std::string> required_string(std::string_view key) {
    auto s = string(key);
    if (!s)
      invalid(quoted(key) + " must be a string");
    return s;
  }

  std::optional<bool> boolean(std::string_view key) {
    auto v = find(key);
    if (v == nullptr)
      return std::nullopt;
    if (!v->is_bool()) {
      invalid(quoted(key) + " must be a boolean");
      return std::nullopt;
    }
    return v->get_bool();
  }

  /// A positive number of seconds (integer or floating point), at most
  /// `max_timeout_seconds`.
  std::optional<double> seconds(std::string_view key) {
    auto v = find(key);
    if (v == nullptr)
      return std::nullopt;
    boost::json::error_code ec;
    auto d = v->to_number<double>(ec);
    if (ec || !std::isfinite(d) || d <= 0) {
      invalid(quoted(key) + " must be a positive number");
      return std::nullopt;
    }
    if (d > max_timeout_seconds) {
      invalid(quoted(key) + " must be at most " +
              std::to_string(static_cast<std::uint64_t>(max_timeout_seconds)) +
              " seconds");
      return std::nullopt;
    }
    return d;
  }

  /// A non-negative integer. Floating-point values are refused so that a
  /// sequence number is never rounded.
  std::optional<std::uint64_t> count(std::string_view key) {
    auto v = find(key);
    if (v == nullptr)
      return std::nullopt;
    if (v->is_uint64())
      return v->get_uint64();
    if (v->is_int64() && v->get_int64() >= 0)
      return static_cast<std::uint64_t>(v->get_int64());
    invalid(quoted(key) + " must be a non-negative integer");
    return std::nullopt;
  }

  std::optional<std::uint64_t> required_count(std::string_view key) {
    auto n = count(key);
    if (!n)
      invalid(quoted(key) + " must be a non-negative integer");
    return n;
  }

  /// One of two keywords; returns the index of the match.
  std::optional<int> choice(std::string_view key, std::string_view first,
                            std::string_view second) {
    auto v = find(key);
    if (v == nullptr)
      return std::nullopt;
    if (v->is_string() && v->get_string() == first)
      return 0;
    if (v->is_string() && v->get_string() == second)
      return 1;
    invalid(quoted(key) + " must be \"" + std::string{first} + "\" or \"" +
            std::string{second} + "\"");
    return std::nullopt;
  }

private:
  static std::string quoted(std::string_view key) {
    return "'" + std::string{key} + "'";
  }

  const boost::json::object& obj_;
  std::vector<std::string_view> known_;
};

} // namespace actorexec::protocol
