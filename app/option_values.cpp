#include "app/option_values.hpp"

#include <cerrno>
#include <cstdlib>
#include <sstream>

namespace actorexec::app {

namespace {

bool to_double(const std::string& s, double& out) {
  errno = 0;
  char* end = nullptr;
  auto v = std::strtod(s.c_str(), &end);
  if (errno != 0 || end == s.c_str() || *end != '\0' || v < 0)
    return false;
  out = v;
  return true;
}

std::string list_text(const std::vector<std::string>& items,
                      const char* empty) {
  if (items.empty())
    return empty;
  std::string out;
  for (auto& item : items)
    out += (out.empty() ? "" : ",") + item;
  return out;
}

} // namespace

bool to_u64(const std::string& s, std::uint64_t& out) {
  if (s.empty() || s[0] == '-')
    return false;
  errno = 0;
  char* end = nullptr;
  auto v = std::strtoull(s.c_str(), &end, 10);
  if (errno != 0 || *end != '\0')
    return false;
  out = v;
  return true;
}

bool to_bool(const std::string& s, bool& out) {
  for (auto t : {"1", "true", "yes", "on"})
    if (s == t)
      return out = true;
  for (auto f : {"0", "false", "no", "off", ""})
    if (s == f) {
      out = false;
      return true;
    }
  return false;
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in{s};
  std::string item;
  while (std::getline(in, item, ',')) {
    auto b = item.find_first_not_of(" \t");
    auto e = item.find_last_not_of(" \t");
    if (b != std::string::npos)
      out.push_back(item.substr(b, e - b + 1));
  }
  return out;
}

option_value any_text(std::string config::*f) {
  return {[f](config& c, const std::string& s) {
            c.*f = s;
            return true;
          },
          [f](const config& c) { return c.*f; }};
}

option_value nonempty_text(std::string config::*f, const char* empty) {
  return {[f](config& c, const std::string& s) {
            c.*f = s;
            return !s.empty();
          },
          [f, empty](const config& c) {
            return (c.*f).empty() ? std::string{empty} : c.*f;
          }};
}

option_value shell_name() {
  return {[](config& c, const std::string& s) {
            if (s != "bash" && s != "zsh" && s != "sh")
              return false;
            c.actors.shell = s;
            return true;
          },
          [](const config& c) { return c.actors.shell; }};
}

option_value seconds_as_ms(std::uint64_t settings::*f) {
  return {[f](config& c, const std::string& s) {
            double v;
            if (!to_double(s, v))
              return false;
            c.actors.*f = static_cast<std::uint64_t>(v * 1000);
            return true;
          },
          [f](const config& c) {
            std::ostringstream os;
            os << static_cast<double>(c.actors.*f) / 1000;
            return os.str();
          }};
}

option_value name_list(std::vector<std::string> config::*f, const char* empty) {
  return {[f](config& c, const std::string& s) {
            for (auto& item : split_list(s))
              (c.*f).push_back(item);
            return true;
          },
          [f, empty](const config& c) { return list_text(c.*f, empty); }};
}

option_value name_list(std::vector<std::string> settings::*f,
                       const char* empty) {
  return {
      [f](config& c, const std::string& s) {
        c.actors.*f = split_list(s);
        return true;
      },
      [f, empty](const config& c) { return list_text(c.actors.*f, empty); }};
}

option_value rlimit(int resource) {
  // A later value for the same resource replaces the earlier one.
  return {[resource](config& c, const std::string& s) {
            std::uint64_t v;
            if (!to_u64(s, v))
              return false;
            for (auto& l : c.actors.rlimits)
              if (l.first == resource) {
                l.second = v;
                return true;
              }
            c.actors.rlimits.emplace_back(resource, v);
            return true;
          },
          [resource](const config& c) {
            for (auto& l : c.actors.rlimits)
              if (l.first == resource)
                return std::to_string(l.second);
            return std::string{"none"};
          }};
}

option_value shown_as(option_value value, std::string text) {
  value.show = [text](const config&) { return text; };
  return value;
}

} // namespace actorexec::app
