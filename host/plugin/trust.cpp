#include "plugin/trust.h"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <vector>

namespace bentos::plugin {

namespace fs = std::filesystem;

namespace {

std::string octal_mode(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

// "uid 1000 (alice)", or "uid 1234" for an id with no passwd entry.
std::string user_text(uid_t uid) {
  std::string text = "uid " + std::to_string(uid);
  std::vector<char> buffer(16384);
  passwd entry{};
  passwd* found = nullptr;
  if (::getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found) == 0 && found) {
    text += std::string(" (") + found->pw_name + ")";
  }
  return text;
}

// Checks one file or folder (stat follows symlinks: what matters is the
// object that will be used). Empty when it is trustworthy.
std::string problem_with(const fs::path& object, bool is_file, uid_t trusted_uid) {
  struct stat st{};
  const std::string what = std::string(is_file ? "file " : "folder ") + object.string();
  if (::stat(object.c_str(), &st) != 0) return "cannot check " + what + ": " + std::strerror(errno);
  const std::string facts = " (owner " + user_text(st.st_uid) + ", mode " + octal_mode(st.st_mode) + ")";
  if (st.st_uid != 0 && st.st_uid != trusted_uid) {
    return what + " is owned by " + user_text(st.st_uid) + facts + ", not by root or by " +
           user_text(trusted_uid) + " (the user the host runs as); fix: chown root " + object.string();
  }
  const bool by_group = (st.st_mode & S_IWGRP) != 0;
  const bool by_others = (st.st_mode & S_IWOTH) != 0;
  if (by_group || by_others) {
    std::string who = by_group && by_others ? "its group and by others" : by_group ? "its group" : "others";
    std::string text = what + " is writable by " + who + facts;
    if (!is_file && (st.st_mode & S_ISVTX) != 0)
      text += "; a sticky folder still lets anyone create a file there";
    return text + "; fix: chmod go-w " + object.string() +
           (is_file ? "" : " (or move the plugin to a folder only root can write)");
  }
  return {};
}

// The object itself, then every folder above it up to '/'.
std::vector<std::pair<fs::path, bool>> chain(const fs::path& file) {
  std::vector<std::pair<fs::path, bool>> out{{file, true}};
  for (fs::path dir = file.parent_path(); !dir.empty(); dir = dir.parent_path()) {
    out.emplace_back(dir, false);
    if (dir == dir.root_path()) break;
  }
  return out;
}

}  // namespace

bool plugin_file_trusted(const std::string& path, uid_t trusted_uid, std::string& problem) {
  std::error_code ec;
  const fs::path written = fs::absolute(path, ec).lexically_normal();
  if (ec) {
    problem = "cannot check " + path + ": " + ec.message();
    return false;
  }
  const fs::path real = fs::canonical(written, ec);
  if (ec) {
    problem = "cannot check " + path + ": " + ec.message();
    return false;
  }
  std::vector<std::pair<fs::path, bool>> objects = chain(written);
  // Every hop of a symlinked file, not only the first and the last: whoever
  // can write the folder of a link in the middle can repoint it.
  fs::path hop = written;
  for (int hops = 0; hops < 40 && fs::is_symlink(fs::symlink_status(hop, ec)) && !ec; ++hops) {
    const fs::path target = fs::read_symlink(hop, ec);
    if (ec) break;
    hop = (target.is_absolute() ? target : hop.parent_path() / target).lexically_normal();
    for (auto& object : chain(hop)) objects.push_back(std::move(object));
  }
  if (real != written) {
    for (auto& object : chain(real)) objects.push_back(std::move(object));
  }
  for (const auto& [object, is_file] : objects) {
    std::string found = problem_with(object, is_file, trusted_uid);
    if (!found.empty()) {
      problem = std::move(found);
      return false;
    }
  }
  return true;
}

}  // namespace bentos::plugin
