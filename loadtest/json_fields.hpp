#pragma once

// Typed readers of a scenario's JSON whose errors name the field by its path,
// e.g. `phases[1].session.framing: must be "lines" or "chunks"`.

#include <cstdint>
#include <limits>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

namespace actorexec::loadtest::json_fields {

/// Throws scenario_error "PATH: WHAT".
[[noreturn]] void fail(const std::string& path, const std::string& what);

/// `path.key` (just `key` at the top).
std::string join(const std::string& path, std::string_view key);
/// `path[i]`.
std::string index_path(const std::string& path, std::size_t i);

const boost::json::object& as_object(const boost::json::value& v,
                                     const std::string& path);
const boost::json::array& as_array(const boost::json::value& v,
                                   const std::string& path);
std::string as_string(const boost::json::value& v, const std::string& path);
bool as_bool(const boost::json::value& v, const std::string& path);
double as_number(const boost::json::value& v, const std::string& path);
std::int64_t as_int(const boost::json::value& v, const std::string& path);
/// An integer within [lo, hi]; the message names the bounds.
std::uint64_t as_uint(const boost::json::value& v, const std::string& path,
                      std::uint64_t lo, std::uint64_t hi);
std::vector<std::string> as_strings(const boost::json::value& v,
                                    const std::string& path);
std::vector<std::int64_t> as_ints(const boost::json::value& v,
                                  const std::string& path);

/// `obj[key]`, which must be there ("PATH.KEY: is required").
const boost::json::value& required(const boost::json::object& obj,
                                   const std::string& path,
                                   std::string_view key);

/// Sets `out` to `obj[key]`, an integer within [lo, hi] (hi at most
/// 2^32 - 1), when the key is there.
void read_u32(const boost::json::object& obj, const std::string& path,
              std::string_view key, std::uint32_t& out, std::uint64_t lo,
              std::uint64_t hi);

constexpr std::uint64_t u32_max = std::numeric_limits<std::uint32_t>::max();
constexpr std::uint64_t u64_max = std::numeric_limits<std::uint64_t>::max();

/// Typos in a scenario would silently change a measurement, so every key
/// must be known.
void reject_unknown(const boost::json::object& obj, const std::string& path,
                    const std::set<std::string_view>& known);

} // namespace actorexec::loadtest::json_fields
