// SPDX-License-Identifier: GPL-2.0
//
// A minimal guest root: a static busybox, its applets as links, the
// directories a program expects and an /etc that names the guest's
// users.  unpriv-run builds one with --make-root, and on first use as
// its default root.
#pragma once

#include <string>

namespace guest::host {

// Build a root in dir (which must not exist) from the static busybox
// at busybox.  Returns an empty string, or what went wrong.
std::string make_root(const std::string& dir, const std::string& busybox);

// mkdir -p dir: an empty string, or what went wrong.
std::string make_parents(const std::string& dir);

// The default root: $XDG_DATA_HOME/unpriv/root, or
// ~/.local/share/unpriv/root.
std::string default_root();

} // namespace guest::host
