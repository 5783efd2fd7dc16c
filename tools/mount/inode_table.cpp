#include "inode_table.h"

namespace bentos::mount {

bool InodeTable::build(const std::vector<std::string>& device_names, std::string& error) {
  nodes_.clear();
  Node root;
  root.ino = kRootIno;
  root.parent = kRootIno;
  root.is_dir = true;
  nodes_.push_back(root);

  for (size_t index = 0; index < device_names.size(); ++index) {
    const std::string& full = device_names[index];
    uint64_t dir = kRootIno;
    size_t start = 0;
    while (true) {
      const size_t slash = full.find('/', start);
      const bool last = slash == std::string::npos;
      const std::string segment = full.substr(start, last ? std::string::npos : slash - start);
      const std::string so_far = full.substr(0, last ? std::string::npos : slash);
      auto& children = nodes_[dir - 1].children;
      const auto it = children.find(segment);
      if (it != children.end()) {
        const Node& existing = nodes_[it->second - 1];
        if (last || !existing.is_dir) {
          error = "device '" + full + "' clashes with " +
                  (existing.is_dir ? "the folder '" + so_far + "' of another device"
                                   : "the device '" + so_far + "'") +
                  ": a name cannot be both a file and a folder";
          return false;
        }
        dir = existing.ino;
      } else {
        Node node;
        node.ino = nodes_.size() + 1;
        node.parent = dir;
        node.name = segment;
        node.is_dir = !last;
        node.device = index;
        nodes_[dir - 1].children.emplace(segment, node.ino);
        if (node.is_dir) ++nodes_[dir - 1].subdirs;
        dir = node.ino;
        nodes_.push_back(std::move(node));
      }
      if (last) break;
      start = slash + 1;
    }
  }
  return true;
}

const Node* InodeTable::find(uint64_t ino) const {
  if (ino == 0 || ino > nodes_.size()) return nullptr;
  return &nodes_[ino - 1];
}

const Node* InodeTable::child(uint64_t parent, std::string_view name) const {
  const Node* dir = find(parent);
  if (dir == nullptr || !dir->is_dir) return nullptr;
  const auto it = dir->children.find(name);
  return it == dir->children.end() ? nullptr : find(it->second);
}

struct stat InodeTable::attributes(const Node& node) const {
  struct stat st{};
  st.st_ino = node.ino;
  st.st_uid = uid_;
  st.st_gid = gid_;
  st.st_atime = st.st_mtime = st.st_ctime = since_;
  st.st_blksize = 4096;
  if (node.is_dir) {
    st.st_mode = S_IFDIR | 0755;
    st.st_nlink = 2 + node.subdirs;
  } else {
    st.st_mode = S_IFREG | 0666;
    st.st_nlink = 1;
    st.st_size = 0;
  }
  return st;
}

}  // namespace bentos::mount
