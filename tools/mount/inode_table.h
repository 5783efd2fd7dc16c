// The mounted tree: the root folder, one regular file per device, and a
// folder for every '/'-separated prefix of a nested device name
// ("llm/fixture/echo" -> llm/ -> fixture/ -> echo). Built once at start and
// never changed, so inode numbers are stable and lookups need no counting.
//
// Owned by the FUSE bridge; read-only after build(); loop thread.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace bentos::mount {

inline constexpr uint64_t kRootIno = 1;  // FUSE_ROOT_ID

struct Node {
  uint64_t ino = 0;
  uint64_t parent = 0;
  std::string name;      // the last path segment ("" for the root)
  bool is_dir = false;
  size_t device = 0;     // files: index into the device list
  std::map<std::string, uint64_t, std::less<>> children;  // folders: name -> ino
  size_t subdirs = 0;    // folders: how many children are folders
};

class InodeTable {
 public:
  // Builds the tree from the device names (index i = device i). Returns
  // false with `error` when a name is both a device and a folder of another
  // device ("llm" and "llm/echo").
  bool build(const std::vector<std::string>& device_names, std::string& error);

  const Node* find(uint64_t ino) const;
  const Node* child(uint64_t parent, std::string_view name) const;

  // stat(2) attributes: folders 0755, device files 0666 with size 0; owned
  // by `uid`/`gid`; all times `since`.
  struct stat attributes(const Node& node) const;
  void set_owner(uint32_t uid, uint32_t gid, int64_t since) {
    uid_ = uid;
    gid_ = gid;
    since_ = since;
  }

 private:
  std::vector<Node> nodes_;  // nodes_[ino - 1]
  uint32_t uid_ = 0;
  uint32_t gid_ = 0;
  int64_t since_ = 0;
};

}  // namespace bentos::mount
