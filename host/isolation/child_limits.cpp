#include "isolation/child_limits.h"

#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "net/listener.h"

namespace bentos::isolation {

namespace {

bool all_digits(const std::string& s) { return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos; }

bool set_limit(int resource, uint64_t value, const char* what, std::string& error) {
  if (value == 0) return true;
  rlimit limit{static_cast<rlim_t>(value), static_cast<rlim_t>(value)};
  if (::setrlimit(resource, &limit) == 0) return true;
  error = std::string("cannot set ") + what + " to " + std::to_string(value) + ": " + std::strerror(errno);
  return false;
}

}  // namespace

bool resolve_user(const std::string& user, uid_t& uid, gid_t& primary_gid, std::string& error) {
  passwd* pw = all_digits(user) ? ::getpwuid(static_cast<uid_t>(std::stoul(user))) : ::getpwnam(user.c_str());
  if (pw) {
    uid = pw->pw_uid;
    primary_gid = pw->pw_gid;
    return true;
  }
  if (all_digits(user)) {  // a uid with no passwd entry is still a uid
    uid = static_cast<uid_t>(std::stoul(user));
    primary_gid = static_cast<gid_t>(uid);
    return true;
  }
  error = "user '" + user + "' does not exist";
  return false;
}

bool confine_child(const config::Isolation& isolation, pid_t parent_pid, std::string& error) {
  // Dies with the parent; and if the parent died before this ran, now.
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent_pid) {
    error = "the host process that started this child is gone";
    return false;
  }
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    error = std::string("cannot set no_new_privs: ") + std::strerror(errno);
    return false;
  }
  if (!set_limit(RLIMIT_AS, isolation.memory_bytes, "limits.memory_bytes (RLIMIT_AS)", error) ||
      !set_limit(RLIMIT_NOFILE, isolation.open_files, "limits.open_files (RLIMIT_NOFILE)", error) ||
      !set_limit(RLIMIT_CPU, isolation.cpu_seconds, "limits.cpu_seconds (RLIMIT_CPU)", error))
    return false;
  if (isolation.user.empty() && isolation.group.empty()) return true;
  uid_t uid = ::getuid();
  gid_t gid = ::getgid();
  if (!isolation.user.empty() && !resolve_user(isolation.user, uid, gid, error)) return false;
  if (!isolation.group.empty() && !net::resolve_group(isolation.group, gid, error)) return false;
  // Supplementary groups: exactly the user's (or none), never the host's.
  // getgrouplist, not initgroups: initgroups reads
  // /proc/sys/kernel/ngroups_max, which the unit's ProcSubset=pid hides.
  const passwd* pw = isolation.user.empty() ? nullptr : ::getpwuid(uid);
  std::vector<gid_t> groups(64);
  if (pw) {
    int n = static_cast<int>(groups.size());
    if (::getgrouplist(pw->pw_name, gid, groups.data(), &n) < 0) {
      groups.resize(static_cast<size_t>(n));
      ::getgrouplist(pw->pw_name, gid, groups.data(), &n);
    }
    groups.resize(static_cast<size_t>(n));
  } else {
    groups.clear();
  }
  const int groups_rc = ::setgroups(groups.size(), groups.data());
  if (groups_rc != 0 && errno != EPERM) {
    error = std::string("cannot set supplementary groups: ") + std::strerror(errno);
    return false;
  }
  if (::setgid(gid) != 0) {
    error = "cannot switch to group " + std::to_string(gid) + ": " + std::strerror(errno);
    return false;
  }
  if (::setuid(uid) != 0) {
    error = "cannot switch to user " + std::to_string(uid) + ": " + std::strerror(errno);
    return false;
  }
  // A host given CAP_SETUID to switch users (a non-root service user)
  // keeps its capabilities across a change between non-root users: drop
  // them all, so the device's user cannot switch back.
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct none[2] = {};
  ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  if (::syscall(SYS_capset, &header, none) != 0) {
    error = std::string("cannot drop capabilities: ") + std::strerror(errno);
    return false;
  }
  // Make sure it cannot be undone (setuid succeeded as a non-root user
  // that was already that user would leave root reachable otherwise).
  if (uid != 0 && ::setuid(0) == 0) {
    error = "dropping privileges did not stick";
    return false;
  }
  return true;
}

}  // namespace bentos::isolation
