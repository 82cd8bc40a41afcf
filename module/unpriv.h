/* SPDX-License-Identifier: GPL-2.0 */
/*
 * unpriv: definitions shared between the module's files.
 */
#ifndef UNPRIV_H
#define UNPRIV_H

#include <linux/unpriv.h>

int unpriv_device_register(void);
void unpriv_device_unregister(void);

#endif /* UNPRIV_H */
