#include "app/config.hpp"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace actorexec::app {

std::optional<std::string> resolve_run_as(config& out) {
  if (out.run_as.empty())
    return std::nullopt;
  const auto& name = out.run_as;
  if (::geteuid() != 0)
    return "--run-as " + name +
           " needs the server to run as root, but it "
           "runs as uid " +
           std::to_string(::geteuid()) +
           ": start it as root, or leave out --run-as and ACTOREXEC_RUN_AS";
  auto size = ::sysconf(_SC_GETPW_R_SIZE_MAX);
  std::vector<char> buf(size > 0 ? static_cast<std::size_t>(size) : 16384);
  struct passwd pw;
  struct passwd* found = nullptr;
  int rc;
  while ((rc = ::getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(),
                            &found)) == ERANGE)
    buf.resize(buf.size() * 2);
  if (rc != 0)
    return "--run-as: cannot look up user '" + name + "': " + std::strerror(rc);
  if (found == nullptr)
    return "--run-as: no such user '" + name + "'";
  if (pw.pw_uid == 0)
    return "--run-as: user '" + name +
           "' is root; children would keep every privilege";
  auto user = std::make_shared<run_as_user>();
  user->name = name;
  user->uid = pw.pw_uid;
  user->gid = pw.pw_gid;
  user->home = pw.pw_dir ? pw.pw_dir : "/";
  int count = 32;
  user->groups.resize(static_cast<std::size_t>(count));
  while (::getgrouplist(name.c_str(), pw.pw_gid, user->groups.data(), &count) <
         0)
    user->groups.resize(static_cast<std::size_t>(count) + 1);
  user->groups.resize(static_cast<std::size_t>(count));
  out.actors.run_as = std::move(user);
  return std::nullopt;
}

} // namespace actorexec::app
