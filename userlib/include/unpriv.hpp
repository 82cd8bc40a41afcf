// SPDX-License-Identifier: MIT
//
// libunpriv: run guest code in address spaces of its own, on the unpriv
// module (/dev/unpriv) or, without it, on ptrace or seccomp.
#pragma once

#include "unpriv/backend.hpp"
#include "unpriv/compartment.hpp"
#include "unpriv/device.hpp"
#include "unpriv/error.hpp"
#include "unpriv/fd.hpp"
#include "unpriv/memory.hpp"
#include "unpriv/types.hpp"
