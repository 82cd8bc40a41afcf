// SPDX-License-Identifier: MIT
//
// unpriv-info: what the unpriv module on this machine offers.
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

#include <sys/utsname.h>

#include "unpriv.hpp"

namespace {

void usage(std::FILE *out)
{
	std::fprintf(out,
		     "usage: unpriv-info [DEVICE]\n"
		     "\n"
		     "Open DEVICE (default %s) and print the kernel, the module\n"
		     "version and the API version it reports.\n",
		     unpriv::Device::default_path);
}

std::string module_version()
{
	std::ifstream in("/sys/module/unpriv/version");
	std::string v;
	if (!std::getline(in, v))
		return "unknown";
	return v;
}

} // namespace

int main(int argc, char **argv)
{
	if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
		bool help = argc == 2 && (!std::strcmp(argv[1], "-h") ||
					  !std::strcmp(argv[1], "--help"));
		usage(help ? stdout : stderr);
		return help ? 0 : 2;
	}
	const char *path = argc == 2 ? argv[1] : unpriv::Device::default_path;

	auto dev = unpriv::Device::open(path);
	if (!dev) {
		std::fprintf(stderr, "unpriv-info: %s: %s\n", path,
			     dev.error().message().c_str());
		return 1;
	}

	struct utsname uts;
	uname(&uts);
	std::printf("kernel:      %s %s\n", uts.sysname, uts.release);
	std::printf("device:      %s\n", path);
	std::printf("module:      unpriv %s\n", module_version().c_str());
	std::printf("api version: %d\n", dev->api_version());
	return 0;
}
