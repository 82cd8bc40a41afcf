/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * unpriv: an unprivileged mode for ordinary Linux threads.
 *
 * The ABI between the unpriv module (/dev/unpriv) and userspace.  This
 * header is the only thing the two share; Documentation/unpriv-api.rst
 * describes every ioctl in prose.
 *
 * Conventions, as in KVM:
 *  - One ioctl type, UNPRIV_IO.  Numbers say which file an ioctl belongs
 *    to: 0x00-0x3f the device (/dev/unpriv), 0x40-0x7f an address space,
 *    0x80-0xbf a vcpu.  An ioctl on the wrong file fails with ENOTTY.
 *  - UNPRIV_API_VERSION is frozen; growth is announced by extensions that
 *    UNPRIV_CHECK_EXTENSION reports.  A shipped struct or number never
 *    changes: a new one is added instead.
 *  - Structs use fixed-width types only, explicit padding, sizes that are
 *    multiples of 8, pointers as __u64.  Reserved fields and unknown flag
 *    bits must be zero, or the ioctl fails with EINVAL.
 */
#ifndef _UAPI_LINUX_UNPRIV_H
#define _UAPI_LINUX_UNPRIV_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* The one version of this API.  It does not change; extensions do. */
#define UNPRIV_API_VERSION	1

/* Unassigned in Documentation/userspace-api/ioctl/ioctl-number.rst (6.1). */
#define UNPRIV_IO		0xBE

/*
 * ioctls on /dev/unpriv
 */

/*
 * UNPRIV_GET_API_VERSION - the API version the module implements.
 * arg:     must be 0.
 * Returns: UNPRIV_API_VERSION.
 * Errors:  EINVAL  arg is not 0.
 */
#define UNPRIV_GET_API_VERSION	_IO(UNPRIV_IO, 0x00)

/*
 * UNPRIV_CHECK_EXTENSION - is an extension (UNPRIV_CAP_*) available?
 * arg:     the extension number.
 * Returns: 0 when it is not (as for any number this module does not
 *          know), a positive value when it is; what the value means, if
 *          more than "yes", is documented with the extension.
 * Errors:  none.
 */
#define UNPRIV_CHECK_EXTENSION	_IO(UNPRIV_IO, 0x01)

#endif /* _UAPI_LINUX_UNPRIV_H */
