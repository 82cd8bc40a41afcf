// SPDX-License-Identifier: MIT
//
// libunpriv's tests.  Suites whose name starts with "module" need the
// unpriv module (/dev/unpriv); without it they are left out and reported
// as skipped, so the same binary runs on any host and inside the test VM.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdio>

#include "unpriv/device.hpp"

int main(int argc, char **argv)
{
	doctest::Context context;

	if (access(unpriv::Device::default_path, F_OK) != 0) {
		std::fprintf(stderr, "note: %s absent; module suites skipped\n",
			     unpriv::Device::default_path);
		context.addFilter("test-suite-exclude", "module*");
	}
	context.applyCommandLine(argc, argv);
	return context.run();
}
