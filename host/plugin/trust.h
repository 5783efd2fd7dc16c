// Plugin trust: a plugin runs inside the host with the host's privileges,
// so whoever can replace its file (or rename something into one of the
// folders on its path) can run code as the host. Like sudo with sudoers,
// the host loads a plugin only when the file and every folder on its path
// are owned by root or by the user the host runs as, and writable by no
// group and no one else (a sticky, world-writable folder such as /tmp
// counts as writable: anyone may create the name there first).
// `--allow-insecure-plugins` skips this for development trees.
//
// Plain functions; no thread affinity (they only stat the file system).
#pragma once

#include <sys/types.h>

#include <string>

namespace bentos::plugin {

// Checks `path` (a plugin file) for `trusted_uid` (the host's effective
// uid; root is always trusted). Both the path as written, absolute, and its
// real path are checked: the folders holding a symlink decide where it may
// point, and the target's folders decide what it is. Returns true when it
// is safe to load; otherwise false with `problem` saying which file or
// folder, its owner and mode, and how to fix it.
bool plugin_file_trusted(const std::string& path, uid_t trusted_uid, std::string& problem);

}  // namespace bentos::plugin
