#pragma once

// Helpers the report's JSON is written with (report.cpp,
// hostile_report.cpp).

#include <string>
#include <type_traits>

#include <boost/json/object.hpp>

namespace actorexec::loadtest {

/// Three decimals are plenty for milliseconds and seconds, and keep the
/// report readable.
inline double round3(double x) {
  return static_cast<double>(static_cast<long long>(x * 1000 + 0.5)) / 1000;
}

/// A map of counts as a JSON object, its keys as strings.
template <class Map>
boost::json::object counts_json(const Map& m) {
  boost::json::object out;
  for (const auto& [k, v] : m) {
    if constexpr (std::is_same_v<typename Map::key_type, std::string>)
      out[k] = v;
    else
      out[std::to_string(k)] = v;
  }
  return out;
}

} // namespace actorexec::loadtest
