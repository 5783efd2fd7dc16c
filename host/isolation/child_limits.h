// What a child does to itself before it loads its plugin: no new
// privileges ever (PR_SET_NO_NEW_PRIVS), die with the parent
// (PR_SET_PDEATHSIG), the device's resource limits (setrlimit), and the
// device's user and group (it already holds its listening socket, so it
// needs no privilege to serve it).
//
// Plain functions; called once, on the child's only thread, before its
// loop starts.
#pragma once

#include <sys/types.h>

#include <string>

#include "config/manifest.h"

namespace bentos::isolation {

// False with `error` when a step fails (the child then reports and exits:
// a device never runs with less isolation than its manifest asks).
bool confine_child(const config::Isolation& isolation, pid_t parent_pid, std::string& error);

// A user given as a name or a numeric uid; false with `error` naming it
// when it does not exist (groups: net::resolve_group).
bool resolve_user(const std::string& user, uid_t& uid, gid_t& primary_gid, std::string& error);

}  // namespace bentos::isolation
