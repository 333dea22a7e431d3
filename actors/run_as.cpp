#include "actors/run_as.hpp"

#include <grp.h>
#include <pwd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace actorexec {

std::optional<std::string>
resolve_run_as(const std::string& name,
               std::shared_ptr<const run_as_user>& out) {
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
  out = std::move(user);
  return std::nullopt;
}

// Raw system calls: glibc's setuid and friends change the credentials of
// every thread of the process, by signalling them, and in a child that
// shares the server's memory (vfork, CLONE_VM) those threads are the
// server's own.
std::error_code drop_privileges(const run_as_user& user) {
  auto fail = [] { return std::error_code{errno, std::system_category()}; };
  if (::syscall(SYS_setgroups, user.groups.size(), user.groups.data()) < 0)
    return fail();
  if (::syscall(SYS_setgid, user.gid) < 0)
    return fail();
  if (::syscall(SYS_setuid, user.uid) < 0)
    return fail();
  if (::syscall(SYS_setuid, 0) == 0 ||
      (user.gid != 0 && ::syscall(SYS_setgid, 0) == 0) ||
      ::geteuid() != user.uid || ::getegid() != user.gid)
    return {EPERM, std::system_category()};
  return {};
}

} // namespace actorexec
